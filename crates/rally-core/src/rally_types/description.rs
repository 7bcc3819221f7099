//! An item's `Description`: the HTML as read, and its Markdown once converted.
//!
//! Normalisation converts the HTML once per item and keeps the Markdown with it (the same
//! `Arc<str>` the Markdown cache holds, never a copy). A kept list (`tracker/incremental.rs`)
//! then lets go of the HTML of the items already converted (`settle`): their polls hand out
//! the Markdown only, so a kept 10,000-item list no longer holds both texts of every item.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

#[derive(Default)]
pub struct Description {
    /// The HTML as read (`None`: absent, or let go once converted).
    html: Mutex<Option<Box<str>>>,
    markdown: OnceLock<Arc<str>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Description {
    pub fn from_html(html: impl Into<Box<str>>) -> Self {
        Description { html: Mutex::new(Some(html.into())), markdown: OnceLock::new() }
    }

    /// The Markdown of the description, converted by `convert` on first use (it must return
    /// what `html_to_markdown` would); `None`: the item has none.
    pub fn markdown(&self, convert: impl FnOnce(&str) -> Arc<str>) -> Option<Arc<str>> {
        if let Some(md) = self.markdown.get() {
            return Some(md.clone());
        }
        // Held while converting: a concurrent `settle` cannot take the HTML from under it.
        let html = lock(&self.html);
        let h = html.as_deref()?;
        Some(self.markdown.get_or_init(|| convert(h)).clone())
    }

    /// Whatever `f` makes of the HTML as read (`None`: absent, or let go by `settle`). Only
    /// fresh reads look at it (a create's check of what it wrote).
    pub fn with_html<R>(&self, f: impl FnOnce(Option<&str>) -> R) -> R {
        f(lock(&self.html).as_deref())
    }

    /// Lets go of the HTML once the Markdown is known.
    pub fn settle(&self) {
        if self.markdown.get().is_some() {
            *lock(&self.html) = None;
        }
    }
}

impl Clone for Description {
    fn clone(&self) -> Self {
        let markdown = OnceLock::new();
        if let Some(md) = self.markdown.get() {
            let _ = markdown.set(md.clone());
        }
        Description { html: Mutex::new(lock(&self.html).clone()), markdown }
    }
}

impl PartialEq for Description {
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        self.markdown.get() == other.markdown.get() && *lock(&self.html) == *lock(&other.html)
    }
}

impl fmt::Debug for Description {
    /// Lengths only: descriptions are long and may be private.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Description")
            .field("html_len", &lock(&self.html).as_ref().map(|h| h.len()))
            .field("markdown_len", &self.markdown.get().map(|m| m.len()))
            .finish()
    }
}

impl<'de> Deserialize<'de> for Description {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Description::from_html).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_once_and_lets_go_of_the_html_only_when_converted() {
        let d = Description::from_html("<b>x</b>");
        d.settle();
        assert_eq!(d.with_html(|h| h.map(str::to_owned)).as_deref(), Some("<b>x</b>"), "not converted yet");
        let mut calls = 0;
        let mut convert = |h: &str| {
            calls += 1;
            Arc::from(h.replace("<b>", "**").replace("</b>", "**"))
        };
        assert_eq!(d.markdown(&mut convert).as_deref(), Some("**x**"));
        assert_eq!(d.markdown(&mut convert).as_deref(), Some("**x**"));
        assert_eq!(calls, 1);
        let copy = d.clone();
        d.settle();
        assert!(d.with_html(|h| h.is_none()));
        assert_eq!(d.markdown(|_| unreachable!()).as_deref(), Some("**x**"), "the Markdown stays");
        assert_eq!(copy.with_html(|h| h.map(str::len)), Some(8), "a copy keeps its own HTML");
        assert!(Description::default().markdown(|_| unreachable!()).is_none());
        assert_eq!(format!("{d:?}"), "Description { html_len: None, markdown_len: Some(5) }");
    }
}
