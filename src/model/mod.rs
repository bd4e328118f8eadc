//! Pure data: messages, topics and (later) the topic tree. No network, no UI.

pub mod message;
pub mod topic;
