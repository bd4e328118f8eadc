//! Pure data: messages, topics, the topic tree and the views over it. No network, no UI.

pub mod backlog;
pub mod decode;
pub mod export;
pub mod message;
pub mod payload;
pub mod present;
pub mod proto;
pub mod rate;
pub mod recording;
pub mod redact;
pub mod requests;
pub mod rows;
pub mod search;
pub mod segments;
pub mod series;
pub mod sys_stats;
pub mod template;
pub mod timeline;
pub mod topic;
pub mod topic_tree;
pub mod tree_view;
pub mod units;
