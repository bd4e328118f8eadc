//! Connection profiles and the file they are saved in.

pub mod profile;
pub mod store;

pub use profile::Profile;
