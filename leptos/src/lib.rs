//! A Leptos component for s3file: [`S3FileInput`] renders a form whose file input uploads
//! straight to S3, with the upload's progress, last error and stored keys as signals.
//!
//! The component renders the same markup a server-rendered page would (a form carrying
//! `data-s3file`), and the upload itself is done by s3file's drop-in widget, which must be
//! loaded on the page:
//!
//! ```html
//! <script type="module" src="/pkg/s3file.js"></script>
//! ```
//!
//! The widget listens on the document, so forms that Leptos inserts later are upgraded as
//! they appear; the component listens to the widget's events (`s3file:start`, `progress`,
//! `s3file:done`, `s3file:error`, described in PROTOCOL.md) and turns them into signals.
//! Every page then runs one copy of the upload logic, the one that is tested against the
//! signer and S3, whether its forms come from a template or from Leptos. When the files are
//! stored the widget submits the form natively to `action` (the signer's finalize by
//! default), with the S3 keys in place of the bytes.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Reads `detail[name]` of a widget event.
fn detail(event: &web_sys::Event, name: &str) -> JsValue {
    event
        .dyn_ref::<web_sys::CustomEvent>()
        .and_then(|event| js_sys::Reflect::get(&event.detail(), &JsValue::from_str(name)).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// An upload form with one file input, upgraded by s3file's drop-in widget.
///
/// `progress` (0 to 1), `error` (the last failure's message, `None` once an upload starts
/// again) and `keys` (the S3 keys of the files stored so far, in order) are written as the
/// widget reports; pass signals of your own to read them elsewhere. `on_uploaded` runs once
/// every file of an attempt is stored, with their keys, just before the form is submitted.
#[component]
pub fn S3FileInput(
    /// The file input's name: the form field that carries the keys.
    #[prop(into)]
    name: String,
    /// The signer's sign URL.
    #[prop(into, default = "/s3file/sign".to_string())]
    sign_url: String,
    /// Where the form is submitted once the files are stored.
    #[prop(into, default = "/s3file/finalize".to_string())]
    action: String,
    /// Whether several files may be chosen.
    #[prop(optional)]
    multiple: bool,
    /// The input's `accept`, e.g. `"image/*"`.
    #[prop(into, optional)]
    accept: Option<String>,
    /// Upload progress, from 0 to 1.
    #[prop(optional)]
    progress: Option<RwSignal<f64>>,
    /// The last failure's message.
    #[prop(optional)]
    error: Option<RwSignal<Option<String>>>,
    /// The S3 keys of the files stored so far.
    #[prop(optional)]
    keys: Option<RwSignal<Vec<String>>>,
    /// Called with the keys once all the files of an attempt are stored.
    #[prop(optional, into)]
    on_uploaded: Option<Callback<Vec<String>>>,
    /// The submit button's label.
    #[prop(into, default = "Upload".to_string())]
    label: String,
) -> impl IntoView {
    let progress = progress.unwrap_or_else(|| RwSignal::new(0.0));
    let error = error.unwrap_or_else(|| RwSignal::new(None));
    let keys = keys.unwrap_or_else(|| RwSignal::new(Vec::new()));
    // Files of the current attempt: `s3file:start` says how many.
    let expected = RwSignal::new(0usize);
    let stored = RwSignal::new(Vec::<String>::new());

    let on_start = move |event: web_sys::Event| {
        expected.set(detail(&event, "files").as_f64().unwrap_or(0.0) as usize);
        stored.set(Vec::new());
        progress.set(0.0);
        error.set(None);
    };
    let on_progress = move |event: web_sys::Event| {
        // The input's events do not bubble; the form hears its own, for all its files.
        if event.target() == event.current_target() {
            if let Some(value) = detail(&event, "progress").as_f64() {
                progress.set(value.clamp(0.0, 1.0));
            }
        }
    };
    let on_done = move |event: web_sys::Event| {
        let Some(key) = detail(&event, "key").as_string() else {
            return;
        };
        keys.update(|keys| keys.push(key.clone()));
        stored.update(|stored| stored.push(key));
        let done = stored.get_untracked();
        if done.len() == expected.get_untracked() {
            progress.set(1.0);
            if let Some(on_uploaded) = on_uploaded {
                on_uploaded.run(done);
            }
        }
    };
    let on_error = move |event: web_sys::Event| {
        error.set(detail(&event, "message").as_string());
    };

    // Leptos types the events it knows (`progress` as a `ProgressEvent`); the widget's are
    // `CustomEvent`s, so the form gets plain DOM listeners, for as long as it lives.
    let form = NodeRef::<html::Form>::new();
    form.on_load(move |form: web_sys::HtmlFormElement| {
        let listen = |name: &str, handler: Box<dyn Fn(web_sys::Event)>| {
            let closure = Closure::<dyn Fn(web_sys::Event)>::wrap(handler);
            let _ = form.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
            // The form keeps it until it is dropped with the page.
            closure.forget();
        };
        listen("s3file:start", Box::new(on_start));
        listen("progress", Box::new(on_progress));
        listen("s3file:done", Box::new(on_done));
        listen("s3file:error", Box::new(on_error));
    });

    let percent = move || format!("{:.0}%", progress.get() * 100.0);
    view! {
        <form
            class="s3file"
            method="post"
            action=action
            enctype="multipart/form-data"
            data-s3file=sign_url
            node_ref=form
        >
            <input type="file" name=name multiple=multiple accept=accept />
            <div class="status">
                <progress max="1" prop:value=move || progress.get() aria-label="Upload progress"></progress>
                <output data-s3file-progress>{percent}</output>
            </div>
            <p class="error" role="alert">{move || error.get()}</p>
            <button type="submit">{label}</button>
        </form>
    }
}
