//! Rally WSAPI v2.0 simulator.
