//! DOM calls that cannot fail with the arguments the widget gives them, bound without
//! web-sys's `Result`: no exception to catch, nothing to check at each call. Bound through the
//! prototypes (`Element.prototype.matches.call(element, …)`), as free functions.

use wasm_bindgen::prelude::*;
use web_sys::Element;

#[wasm_bindgen]
extern "C" {
    /// `element.matches(selectors)`; `selectors` is one of the widget's own, valid ones.
    #[wasm_bindgen(js_namespace = ["Element", "prototype", "matches"], js_name = call)]
    pub fn matches(element: &Element, selectors: &str) -> bool;

}
