//! The demo page of `www/leptos/`: an [`S3FileInput`] and what its signals say.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use s3file_leptos::S3FileInput;

#[component]
fn Demo() -> impl IntoView {
    let progress = RwSignal::new(0.0);
    let error = RwSignal::new(None::<String>);
    let uploaded = RwSignal::new(Vec::<String>::new());
    view! {
        <h1>"s3file with Leptos"</h1>
        <p>"The files go from your browser straight to the bucket; the form then posts their keys."</p>
        <S3FileInput
            name="file"
            sign_url="/s3file/sign"
            multiple=true
            progress=progress
            error=error
            on_uploaded={move |keys: Vec<String>| uploaded.set(keys)}
        />
        <p id="progress-signal" data-progress=move || progress.get().to_string()>
            {move || format!("{:.0}%", progress.get() * 100.0)}
        </p>
        <ul id="uploaded-keys">
            {move || uploaded.get().into_iter().map(|key| view! { <li>{key}</li> }).collect_view()}
        </ul>
    }
}

fn main() {
    leptos::mount::mount_to(document().get_element_by_id("app").expect("#app").unchecked_into(), Demo)
        .forget();
}
