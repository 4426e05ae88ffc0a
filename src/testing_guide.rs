//! # Testing with readyloop
//!
//! (Chapter being written.)
