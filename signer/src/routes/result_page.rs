//! The HTML page finalize answers a browser with: what was stored, with download links.

use std::fmt::Write;

use crate::finalize::Finalized;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

pub fn render(finalized: &Finalized) -> String {
    let mut page = String::from(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Upload complete</title>\n<link rel=\"stylesheet\" href=\"/demo.css\">\n</head>\n<body>\n<main>\n\
         <h1>Upload complete</h1>\n",
    );
    if !finalized.fields.is_empty() {
        page.push_str("<h2>Fields</h2>\n<dl id=\"fields\">\n");
        for (name, values) in &finalized.fields {
            for value in values {
                let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
            }
        }
        page.push_str("</dl>\n");
    }
    page.push_str("<h2>Files</h2>\n<ul id=\"files\">\n");
    let mut any = false;
    for (field, files) in &finalized.files {
        for file in files {
            any = true;
            let _ = writeln!(
                page,
                "<li data-field=\"{}\" data-key=\"{}\"><a href=\"{}\">{}</a> <span class=\"size\">{} bytes</span> <span class=\"type\">{}</span></li>",
                escape(field),
                escape(&file.key),
                escape(&file.url),
                escape(&file.name),
                file.size,
                escape(&file.content_type),
            );
        }
    }
    if !any {
        page.push_str("<li class=\"empty\">No files were uploaded.</li>\n");
    }
    page.push_str("</ul>\n<p><a href=\"/\">Upload more</a></p>\n</main>\n</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finalize::StoredFile;

    #[test]
    fn escapes_everything_a_user_chose() {
        let mut finalized =
            Finalized { fields: Default::default(), passthrough: Vec::new(), files: Default::default() };
        finalized.fields.insert("<b>".into(), vec!["<script>alert(1)</script>".into()]);
        finalized.files.insert(
            "file".into(),
            vec![StoredFile {
                name: "<img src=x onerror=alert(1)>.png".into(),
                key: "media/\"x\".png".into(),
                size: 3,
                content_type: "image/png".into(),
                url: "http://h/a?b=1&c=\"2\"".into(),
                etag: None,
                crc64nvme: None,
            }],
        );
        let page = render(&finalized);
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.png"));
        assert!(page.contains("href=\"http://h/a?b=1&amp;c=&quot;2&quot;\""));
    }
}
