//! The part of `check --deploy` that asks the bucket: browsers can upload only if its CORS
//! configuration lets them POST from another origin and read the `ETag` header.

use crate::state::AppState;

/// One CORS rule, as far as the check cares.
#[derive(Debug, Default, Clone)]
pub struct CorsRule {
    pub methods: Vec<String>,
    pub exposed_headers: Vec<String>,
}

pub fn cors_warnings(rules: &[CorsRule]) -> Vec<String> {
    let mut warnings = Vec::new();
    let allows =
        |method: &str| rules.iter().any(|rule| rule.methods.iter().any(|m| m.eq_ignore_ascii_case(method)));
    if !allows("POST") {
        warnings.push("no CORS rule of the bucket allows POST: browsers cannot upload to it".to_owned());
    }
    let exposes_etag = rules
        .iter()
        .any(|rule| rule.exposed_headers.iter().any(|header| header.eq_ignore_ascii_case("etag")));
    if !exposes_etag {
        warnings.push(
            "no CORS rule of the bucket exposes the ETag header; add \"ExposeHeaders\": [\"ETag\"]"
                .to_owned(),
        );
    }
    warnings
}

/// Reads the bucket's CORS configuration and says what is missing.
pub async fn bucket_warnings(state: &AppState) -> Vec<String> {
    let storage = &state.storage;
    match storage.client.get_bucket_cors().bucket(&storage.bucket).send().await {
        Ok(cors) => {
            let rules: Vec<CorsRule> = cors
                .cors_rules()
                .iter()
                .map(|rule| CorsRule {
                    methods: rule.allowed_methods().to_vec(),
                    exposed_headers: rule.expose_headers().to_vec(),
                })
                .collect();
            cors_warnings(&rules)
        }
        Err(error) if error.as_service_error().and_then(|e| e.meta().code()) == Some("NoSuchCORSConfiguration") => {
            vec![format!(
                "bucket {} has no CORS configuration: browsers cannot upload to it; allow POST from your site and expose ETag",
                storage.bucket
            )]
        }
        Err(error) => vec![format!(
            "cannot read the CORS configuration of bucket {} ({:#}); check it allows POST and exposes ETag, or pass --offline",
            storage.bucket,
            anyhow::Error::new(error)
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(methods: &[&str], exposed: &[&str]) -> CorsRule {
        CorsRule {
            methods: methods.iter().map(|m| m.to_string()).collect(),
            exposed_headers: exposed.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn a_rule_allowing_post_and_exposing_etag_is_enough() {
        assert!(cors_warnings(&[rule(&["GET"], &[]), rule(&["PUT", "POST"], &["ETag"])]).is_empty());
        assert!(cors_warnings(&[rule(&["post"], &["etag"])]).is_empty());
    }

    #[test]
    fn missing_post_or_etag_is_reported() {
        assert_eq!(cors_warnings(&[]).len(), 2);
        let warnings = cors_warnings(&[rule(&["POST"], &["x-amz-request-id"])]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("ETag"));
        assert!(cors_warnings(&[rule(&["GET"], &["ETag"])])[0].contains("POST"));
    }
}
