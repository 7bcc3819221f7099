//! Tag names as Rally stores them: `&`, `<` and `>` HTML-escaped (`R&D` is kept as `R&amp;D`).
//! A label is what the user typed; queries on `Name` / `Tags.Name` compare the stored form.

/// The stored form of a label, for queries: `R&D` → `R&amp;D`.
pub fn stored(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The label a stored name shows: `R&amp;D` → `R&D`, in one pass (so `&amp;amp;` → `&amp;`).
/// Text that is not one of the entities Rally writes stays as it is.
pub fn shown(name: &str) -> String {
    if !name.contains('&') {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\'')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
        match entity {
            Some((e, c)) => {
                out.push(c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_and_shown_are_inverse() {
        for l in ["R&D", "a>b", "<x>", "plain", "&amp;", "&&", "é & ü", ""] {
            assert_eq!(shown(&stored(l)), l);
        }
        assert_eq!(stored("R&D"), "R&amp;D");
        assert_eq!(shown("a &b; & c"), "a &b; & c");
    }
}
