//! The part of `check --deploy` that asks the bucket: browsers can upload only if its CORS
//! configuration lets them POST from another origin and read the `ETag` header, and PUT (parts
//! of multipart uploads, PUT mode) with the `Content-MD5` header their checksum travels in.

use crate::state::AppState;

/// One CORS rule, as far as the check cares.
#[derive(Debug, Default, Clone)]
pub struct CorsRule {
    pub methods: Vec<String>,
    /// Request headers allowed, as S3 takes them: names, or patterns with one `*`.
    pub allowed_headers: Vec<String>,
    pub exposed_headers: Vec<String>,
}

impl CorsRule {
    fn allows_method(&self, method: &str) -> bool {
        self.methods.iter().any(|allowed| allowed.eq_ignore_ascii_case(method))
    }

    fn allows_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.allowed_headers.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.split_once('*') {
                Some((start, end)) => {
                    name.len() >= start.len() + end.len() && name.starts_with(start) && name.ends_with(end)
                }
                None => pattern == name,
            }
        })
    }
}

pub fn cors_warnings(rules: &[CorsRule]) -> Vec<String> {
    let mut warnings = Vec::new();
    if !rules.iter().any(|rule| rule.allows_method("POST")) {
        warnings.push("no CORS rule of the bucket allows POST: browsers cannot upload to it".to_owned());
    }
    if !rules.iter().any(|rule| rule.allows_method("PUT") && rule.allows_header("content-md5")) {
        warnings.push(
            "no CORS rule of the bucket allows PUT with the Content-MD5 header: browsers cannot send \
             the parts of multipart uploads (nor PUT mode's files); add \"PUT\" to AllowedMethods and \
             \"Content-MD5\" (or \"*\") to AllowedHeaders"
                .to_owned(),
        );
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
                    allowed_headers: rule.allowed_headers().to_vec(),
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

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    fn rule(methods: &[&str], allowed: &[&str], exposed: &[&str]) -> CorsRule {
        CorsRule {
            methods: strings(methods),
            allowed_headers: strings(allowed),
            exposed_headers: strings(exposed),
        }
    }

    #[test]
    fn a_rule_allowing_post_and_put_with_content_md5_and_exposing_etag_is_enough() {
        assert!(
            cors_warnings(&[rule(&["GET"], &[], &[]), rule(&["PUT", "POST"], &["*"], &["ETag"])]).is_empty()
        );
        assert!(
            cors_warnings(&[rule(&["post", "put"], &["content-type", "Content-MD5"], &["etag"])]).is_empty()
        );
        assert!(
            cors_warnings(&[rule(&["POST"], &[], &["ETag"]), rule(&["PUT"], &["content-*"], &[])]).is_empty()
        );
    }

    #[test]
    fn missing_post_put_content_md5_or_etag_is_reported() {
        assert_eq!(cors_warnings(&[]).len(), 3);
        let warnings = cors_warnings(&[rule(&["POST", "PUT"], &["*"], &["x-amz-request-id"])]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("ETag"));
        assert!(cors_warnings(&[rule(&["GET", "PUT"], &["*"], &["ETag"])])[0].contains("POST"));
        for headers in [&["content-type"][..], &["x-amz-*"], &[]] {
            let warnings = cors_warnings(&[rule(&["POST", "PUT"], headers, &["ETag"])]);
            assert_eq!(warnings.len(), 1, "{headers:?}");
            assert!(warnings[0].contains("Content-MD5"), "{headers:?}");
        }
        // The header allowed on a rule without PUT does not count.
        let split = [rule(&["POST"], &["Content-MD5"], &["ETag"]), rule(&["PUT"], &["content-type"], &[])];
        assert!(cors_warnings(&split)[0].contains("Content-MD5"));
    }
}
