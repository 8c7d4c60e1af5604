//! S3's XML answers, written with aws-smithy-xml's writer: it escapes every text and closes
//! every element it opens, so no answer can come out malformed whatever a key contains.

use aws_smithy_xml::encode::{ScopeWriter, XmlWriter};

/// The namespace of S3's API documents.
pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// An XML document whose root element `root` (in `namespace`, if any) holds what `body` writes.
pub fn document(root: &str, namespace: Option<&str>, body: impl FnOnce(&mut ScopeWriter)) -> String {
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut writer = XmlWriter::new(&mut text);
    let mut element = writer.start_el(root);
    if let Some(namespace) = namespace {
        element = element.write_ns(namespace, None);
    }
    let mut scope = element.finish();
    body(&mut scope);
    scope.finish();
    text
}

/// `<name>value</name>` inside `parent`.
pub fn text(parent: &mut ScopeWriter, name: &str, value: &str) {
    parent.start_el(name).finish().data(value);
}

/// An element `name` inside `parent` holding what `body` writes.
pub fn element(parent: &mut ScopeWriter, name: &str, body: impl FnOnce(&mut ScopeWriter)) {
    let mut scope = parent.start_el(name).finish();
    body(&mut scope);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_escaped_and_elements_closed() {
        let xml = document("Error", None, |root| {
            text(root, "Code", "NoSuchKey");
            text(root, "Message", "a<b>&\"c\"");
        });
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>a&lt;b&gt;&amp;&quot;c&quot;</Message></Error>"
        );
    }

    #[test]
    fn nested_elements_in_the_s3_namespace() {
        let xml = document("ListPartsResult", Some(S3_NAMESPACE), |root| {
            element(root, "Part", |part| text(part, "PartNumber", "1"));
        });
        assert!(xml.ends_with(
            "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Part><PartNumber>1</PartNumber></Part></ListPartsResult>"
        ));
    }
}
