//! s3file's browser widget: file inputs that opt in with `data-s3file` (or carry
//! django-s3file's markup) upload their files straight to S3, and the form is then submitted
//! with the S3 keys in their place.
//!
//! See PROTOCOL.md for the wire protocol. The modules without `web-sys` (`announcement`,
//! `endpoint`, `failure`, `presigned`, `progress`, `queue`, `retry`, `settings`,
//! `submission`, `text`) hold the logic and are tested with plain `cargo test`; the others are
//! the thin shell around the DOM and XHR.
//!
//! The default feature `drop-in` makes this the drop-in script: the module's start function,
//! the JS API (`upgrade`, `upload`, `abort`), and, in the browser, the allocator and panic
//! handler of a `no_std` build. Without it the crate is the upload core alone, for a component
//! of a larger Rust app, which brings its own.

// No `std` in the drop-in: its panic machinery formats messages with `core::fmt`, which would
// be a third of the widget. Tests on the host, and apps that embed the core, use `std`.
#![cfg_attr(all(target_arch = "wasm32", feature = "drop-in"), no_std)]

extern crate alloc;

pub mod announcement;
pub mod attempt;
pub mod backoff;
pub mod bindings;
pub mod endpoint;
pub mod failure;
pub mod instructions;
pub mod page;
pub mod part_urls;
pub mod parts;
pub mod presigned;
pub mod progress;
pub mod queue;
pub mod retry;
pub mod settings;
pub mod sign;
pub mod submission;
pub mod text;
pub mod upload;

#[cfg(feature = "drop-in")]
mod drop_in;
