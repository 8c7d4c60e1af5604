//! The checksums the widget sends with its uploads, computed in a Web Worker (or, where workers
//! cannot start, on the page in short slices): MD5 for `Content-MD5`, CRC-32 for
//! `x-amz-checksum-crc32`. The hashing is the `md-5` and `crc` crates'; this crate only gives
//! them a wasm interface that JS can drive without glue (`exports`), and is `no_std` there, with
//! no allocator: the bytes come through one fixed buffer, a piece at a time.

#![cfg_attr(target_arch = "wasm32", no_std)]

mod hasher;

#[cfg(target_arch = "wasm32")]
mod exports;

pub use hasher::{crc32_tables, Algorithm, Crc32, Hasher, MAX_DIGEST};
