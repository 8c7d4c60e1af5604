//! The store suite against SeaweedFS, a real S3 server that checks POST policies, started by
//! `cargo xtask test`.

mod common;

use common::*;

macro_rules! suite {
    ($($name:ident $(with $args:expr)?;)*) => {$(
        #[tokio::test]
        async fn $name() {
            #[allow(unused_mut, unused_assignments)]
            let mut args: &[&str] = &[];
            $(args = $args;)?
            common::$name(start(seaweedfs_settings(args)).await).await;
        }
    )*};
}

suite! {
    valid_upload_is_finalized_with_a_server_side_copy;
    store_rejects_a_tampered_signature;
    store_rejects_a_tampered_policy;
    store_rejects_a_key_outside_the_signed_prefix;
    store_rejects_another_content_type;
    store_rejects_a_file_larger_than_announced;
    store_rejects_a_policy_signed_with_another_secret;
    store_rejects_an_expired_policy with &["--upload-expire", "1"];
    finalize_refuses_forged_and_foreign_keys;
    finalize_refuses_an_expired_folder_signature with &["--upload-expire", "1", "--signature-expire", "2"];
    sign_refuses_bad_requests;
    finalize_refuses_malformed_forms;
    plain_multipart_upload_works_without_javascript;
    file_overwrite_off_keeps_existing_objects with &["--file-overwrite", "false"];
}
