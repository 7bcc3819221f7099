//! Rally WSAPI v2.0 client core.
