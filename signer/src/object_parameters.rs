//! `AWS_S3_OBJECT_PARAMETERS` and `AWS_DEFAULT_ACL`: what every stored object carries.
//!
//! The same JSON object django-storages takes (boto3's parameter names). Where each parameter is
//! applied matters: headers a browser upload can set (Cache-Control, metadata, encryption) go
//! into the POST policy as exact conditions, so the temporary object already has them and the
//! server-side copy keeps them; what must only hold for the final object (storage class, ACL,
//! tags) is set on the copy, so a temporary upload is never public or in a cold storage class.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectParameters {
    #[serde(rename = "CacheControl")]
    pub cache_control: Option<String>,
    #[serde(rename = "ContentDisposition")]
    pub content_disposition: Option<String>,
    #[serde(rename = "ContentEncoding")]
    pub content_encoding: Option<String>,
    #[serde(rename = "ContentLanguage")]
    pub content_language: Option<String>,
    #[serde(rename = "Expires")]
    pub expires: Option<String>,
    #[serde(rename = "Metadata", default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "StorageClass")]
    pub storage_class: Option<String>,
    #[serde(rename = "ServerSideEncryption")]
    pub server_side_encryption: Option<String>,
    #[serde(rename = "SSEKMSKeyId")]
    pub sse_kms_key_id: Option<String>,
    #[serde(rename = "ACL")]
    pub acl: Option<String>,
    /// URL-encoded tags, `key1=value1&key2=value2`, as boto3 takes them.
    #[serde(rename = "Tagging")]
    pub tagging: Option<String>,
}

impl ObjectParameters {
    /// Parses the JSON setting, with `default_acl` applied unless the JSON sets `ACL`.
    pub fn parse(json: Option<&str>, default_acl: Option<&str>) -> Result<ObjectParameters, String> {
        let mut parameters: ObjectParameters = match json.map(str::trim).filter(|json| !json.is_empty()) {
            Some(json) => serde_json::from_str(json).map_err(|error| {
                format!("AWS_S3_OBJECT_PARAMETERS is not a valid object of boto3 parameters: {error}")
            })?,
            None => ObjectParameters::default(),
        };
        if parameters.acl.is_none() {
            parameters.acl = default_acl.map(str::to_owned);
        }
        for (name, value) in parameters.metadata.iter() {
            let valid_name =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_name || value.chars().any(char::is_control) {
                return Err(format!("metadata {name:?} is not a valid header name and value"));
            }
        }
        let texts = [
            &parameters.cache_control,
            &parameters.content_disposition,
            &parameters.content_encoding,
            &parameters.content_language,
            &parameters.expires,
            &parameters.storage_class,
            &parameters.server_side_encryption,
            &parameters.sse_kms_key_id,
            &parameters.acl,
            &parameters.tagging,
        ];
        if texts.iter().any(|text| text.as_deref().is_some_and(|text| text.chars().any(char::is_control))) {
            return Err("AWS_S3_OBJECT_PARAMETERS values must not contain control characters".to_owned());
        }
        Ok(parameters)
    }

    /// Form fields (and so exact policy conditions) for a browser upload.
    pub fn upload_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        let mut push = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                fields.push((name.to_owned(), value.clone()));
            }
        };
        push("Cache-Control", &self.cache_control);
        push("Content-Disposition", &self.content_disposition);
        push("Content-Encoding", &self.content_encoding);
        push("Content-Language", &self.content_language);
        push("Expires", &self.expires);
        push("x-amz-server-side-encryption", &self.server_side_encryption);
        push("x-amz-server-side-encryption-aws-kms-key-id", &self.sse_kms_key_id);
        for (name, value) in &self.metadata {
            fields.push((format!("x-amz-meta-{}", name.to_ascii_lowercase()), value.clone()));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_boto3_names_and_applies_the_default_acl() {
        let parameters = ObjectParameters::parse(
            Some(r#"{"CacheControl": "max-age=86400", "Metadata": {"Project": "x"}, "StorageClass": "STANDARD_IA"}"#),
            Some("public-read"),
        )
        .unwrap();
        assert_eq!(parameters.cache_control.as_deref(), Some("max-age=86400"));
        assert_eq!(parameters.storage_class.as_deref(), Some("STANDARD_IA"));
        assert_eq!(parameters.acl.as_deref(), Some("public-read"));
        assert_eq!(
            parameters.upload_fields(),
            [
                ("Cache-Control".to_owned(), "max-age=86400".to_owned()),
                ("x-amz-meta-project".to_owned(), "x".to_owned())
            ]
        );
    }

    #[test]
    fn acl_in_the_parameters_wins_over_the_default() {
        let parameters = ObjectParameters::parse(Some(r#"{"ACL": "private"}"#), Some("public-read")).unwrap();
        assert_eq!(parameters.acl.as_deref(), Some("private"));
    }

    #[test]
    fn unknown_or_malformed_parameters_are_errors() {
        assert!(ObjectParameters::parse(Some(r#"{"CacheControll": "x"}"#), None).is_err());
        assert!(ObjectParameters::parse(Some("not json"), None).is_err());
        assert!(ObjectParameters::parse(Some(r#"{"Metadata": {"a b": "x"}}"#), None).is_err());
        assert!(ObjectParameters::parse(Some(r#"{"CacheControl": "a\r\nb"}"#), None).is_err());
        assert_eq!(ObjectParameters::parse(Some(""), None).unwrap(), ObjectParameters::default());
    }
}
