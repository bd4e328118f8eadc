//! MQTT 5 request/response: requests published with a response topic, and the replies that
//! arrive on it, matched by correlation data.

use std::time::SystemTime;

use bytes::Bytes;

use super::message::Message;

/// Requests remembered per connection (the oldest are forgotten first).
pub const MAX_REQUESTS: usize = 50;
/// Replies kept per request.
pub const MAX_REPLIES: usize = 20;

/// A published request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where it was published.
    pub topic: String,
    /// Where replies are expected.
    pub response_topic: String,
    /// Its correlation data (replies must carry the same, when set).
    pub correlation: Option<Bytes>,
    /// When it was sent.
    pub sent: SystemTime,
    /// Replies, oldest first.
    pub replies: Vec<Message>,
}

/// The requests of one connection.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    /// Newest last.
    pub list: Vec<Request>,
}

impl Requests {
    /// Remembers a request.
    pub fn add(&mut self, topic: String, response_topic: String, correlation: Option<Bytes>) {
        if self.list.len() == MAX_REQUESTS {
            self.list.remove(0);
        }
        self.list.push(Request {
            topic,
            response_topic,
            correlation,
            sent: SystemTime::now(),
            replies: Vec::new(),
        });
    }

    /// Files a message under the newest request it answers: same topic as the response
    /// topic, and the same correlation data when the request had some. Returns whether it did.
    pub fn offer(&mut self, m: &Message) -> bool {
        let Some(request) = self.list.iter_mut().rev().find(|r| {
            r.response_topic == m.topic
                && r.correlation
                    .as_ref()
                    .is_none_or(|c| m.properties.correlation_data.as_ref() == Some(c))
        }) else {
            return false;
        };
        if request.replies.len() < MAX_REPLIES {
            request.replies.push(m.clone());
        }
        true
    }

    /// Whether any request waits on `topic`.
    pub fn listens_on(&self, topic: &str) -> bool {
        self.list.iter().any(|r| r.response_topic == topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::{Properties, QoS};

    fn reply(topic: &str, corr: Option<&'static [u8]>, payload: &'static [u8]) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            received: SystemTime::now(),
            properties: Properties {
                correlation_data: corr.map(Bytes::from_static),
                ..Properties::default()
            },
            subscribed: true,
        }
    }

    #[test]
    fn replies_match_by_topic_and_correlation() {
        let mut r = Requests::default();
        r.add(
            "svc/req".into(),
            "svc/reply".into(),
            Some(Bytes::from_static(b"1")),
        );
        r.add(
            "svc/req".into(),
            "svc/reply".into(),
            Some(Bytes::from_static(b"2")),
        );
        r.add("other/req".into(), "other/reply".into(), None);
        assert!(r.offer(&reply("svc/reply", Some(b"1"), b"one")));
        assert!(r.offer(&reply("svc/reply", Some(b"2"), b"two")));
        assert!(!r.offer(&reply("svc/reply", Some(b"3"), b"stray")));
        assert!(!r.offer(&reply("svc/reply", None, b"no correlation")));
        assert!(r.offer(&reply("other/reply", Some(b"x"), b"any")));
        assert_eq!(&r.list[0].replies[0].payload[..], b"one");
        assert_eq!(&r.list[1].replies[0].payload[..], b"two");
        assert_eq!(r.list[2].replies.len(), 1);
        assert!(r.listens_on("svc/reply") && !r.listens_on("svc/req"));
        for i in 0..MAX_REQUESTS {
            r.add(format!("t{i}"), "x".into(), None);
        }
        assert_eq!(r.list.len(), MAX_REQUESTS);
    }
}
