//! Connection profiles and the file they are saved in.

pub mod import;
pub mod merge;
pub mod profile;
pub mod redact;
pub mod saver;
pub mod secrets;
pub mod store;

pub use profile::Profile;
