//! The widget's bindings to JavaScript, and the only modules that declare any: `effects`
//! (`widget/js/effects.js`: what the page sees, request bodies, reading S3's answers), `xhr`
//! (the requests and timers, known by number), `js` (reading and building plain objects) and
//! `dom` (element queries). The rest of the crate calls these, and web-sys for the inputs and
//! files it holds.

pub(crate) mod dom;
pub mod effects;
pub(crate) mod js;
pub mod xhr;
