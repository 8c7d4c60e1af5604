//! The checksums the widget sends with its uploads, computed in a Web Worker (or, where workers
//! cannot start, on the page in short slices): MD5 for `Content-MD5`, CRC-32 for
//! `x-amz-checksum-crc32`, and a part's CRC-64/NVME beside its MD5, for a multipart upload's
//! whole-object checksum. The hashing is the `md-5` and `crc` crates'; this crate only gives
//! them a wasm interface that JS can drive without glue (`exports`), and is `no_std` there, with
//! no allocator: the bytes come through one fixed buffer, a piece at a time.

#![cfg_attr(target_arch = "wasm32", no_std)]

mod hasher;

#[cfg(target_arch = "wasm32")]
mod exports;

pub use hasher::{Algorithm, Hasher, Tables, MAX_DIGEST};
