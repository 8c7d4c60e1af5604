//! The form's live region, which reads the widget's announcements out to screen readers.
//!
//! A page may provide its own, visible, with `data-s3file-status` on an element inside the form;
//! otherwise the widget adds a visually hidden `role=status` region to the form. Screen readers
//! announce changes only of regions they have seen, so it is added when the form is upgraded,
//! before the first announcement.

use web_sys::{Element, HtmlFormElement};

/// Hidden from sight, not from assistive technology.
const VISUALLY_HIDDEN: &str = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;\
overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap";

/// The form's live region, added if it has none.
pub fn region(form: &HtmlFormElement) -> Option<Element> {
    if let Ok(Some(region)) = form.query_selector("[data-s3file-status]") {
        return Some(region);
    }
    let region = crate::DOCUMENT.with(|document| document.create_element("div")).ok()?;
    for (name, value) in
        [("data-s3file-status", ""), ("role", "status"), ("aria-live", "polite"), ("style", VISUALLY_HIDDEN)]
    {
        let _ = region.set_attribute(name, value);
    }
    form.append_child(&region).ok()?;
    Some(region)
}

/// Says `text` in the form's live region.
pub fn announce(form: &HtmlFormElement, text: &str) {
    if let Some(region) = region(form) {
        region.set_text_content(Some(text));
    }
}
