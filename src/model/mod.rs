//! Pure data: messages, topics and (later) the topic tree. No network, no UI.

pub mod message;
pub mod payload;
pub mod topic;
pub mod topic_tree;
