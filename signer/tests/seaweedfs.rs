//! The store suite against SeaweedFS, a real S3 server that checks POST policies, started by
//! `cargo xtask test`.

mod common;

store_suite!(seaweedfs_settings);
