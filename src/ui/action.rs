//! The window's one vocabulary of requests: what a panel asks for while drawing, applied by
//! the app at the end of the frame (`app/actions.rs`, one method per variant).
//!
//! This module imports no panel: panels depend on it, the app depends on panels and on it,
//! so there is no cycle and a panel can be read (and tested) without the app.

use std::path::PathBuf;

use bytes::Bytes;

use super::notices::NoticeId;
use crate::engine::ConnectionId;
use crate::model::message::OutgoingMessage;
use crate::model::present::Presentation;
use crate::model::template::Template;
use crate::model::topic_tree::{Limits, NodeId};
use crate::profiles::Profile;
use crate::profiles::profile::{ProfileId, Subscription};

/// Something a panel asked for while drawing; applied at the end of the frame.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open (or re-open) a connection with this profile.
    Connect(Box<Profile>),
    /// Stop waiting before the next reconnect attempt of this connection and try at once.
    RetryNow(ConnectionId),
    /// Disconnect the tab of this connection.
    Disconnect(ConnectionId),
    /// Close the tab of this connection (disconnecting it).
    CloseTab(ConnectionId),
    /// Publish on the active connection.
    Publish(OutgoingMessage),
    /// Delete a retained message on the active connection.
    ClearRetained(String),
    /// Ask to delete every retained message at or below a node of the active connection.
    ClearRetainedBelow(NodeId),
    /// Record everything the active connection receives (to `path`, or a file the user picks).
    StartRecording(Option<PathBuf>),
    /// Stop recording on the active connection.
    StopRecording,
    /// Replay a recording (from `path`, or a file the user picks) to the active connection.
    StartReplay {
        /// The recording; `None` asks.
        path: Option<PathBuf>,
        /// How fast.
        speed: crate::model::recording::Speed,
    },
    /// Stop the replay under way.
    StopReplay,
    /// Chart a number from a topic's payloads (path into its JSON; empty: the payload).
    Plot {
        /// The topic.
        topic: String,
        /// Keys and indices into the JSON payload.
        path: Vec<String>,
    },
    /// Put a topic into the publish panel.
    UseTopic(String),
    /// Open the file picker for a TLS file of a profile.
    Browse {
        /// The profile, by id: the picker may outlive the profile's place in the list.
        profile: ProfileId,
        /// Which of its TLS files the picked path fills.
        target: FileTarget,
    },
    /// Check a TLS file in the background.
    CheckFile {
        /// The file.
        path: PathBuf,
        /// What it should contain.
        target: FileTarget,
    },
    /// Ask where to save a file (a payload, chart series...), then save it off the UI thread.
    SaveFile {
        /// What it is, for the notice ("Payload", "Series").
        what: &'static str,
        /// File name offered.
        suggested_name: String,
        /// The bytes.
        bytes: Bytes,
    },
    /// Export messages of the active connection to a file the user picks.
    ExportMessages {
        /// The node.
        node: NodeId,
        /// The latest values of its whole subtree (else its history).
        subtree: bool,
        /// The file format.
        format: crate::model::export::Format,
        /// File name offered.
        suggested_name: String,
    },
    /// Subscribe a connection to a filter (with an MQTT 5 subscription identifier).
    Subscribe {
        /// The connection.
        tab: ConnectionId,
        /// The filter and its options.
        subscription: Subscription,
        /// MQTT 5 subscription identifier; `None` sends none.
        identifier: Option<usize>,
    },
    /// Unsubscribe a connection from a filter.
    Unsubscribe {
        /// The connection.
        tab: ConnectionId,
        /// The filter, exactly as subscribed.
        filter: String,
    },
    /// The history limits were edited in Settings: apply them to every open tree.
    SetLimits(Limits),
    /// Show the window in this language from the next frame on (and remember it).
    SetLanguage(crate::ui::i18n::Language),
    /// Save a publish template in a saved profile (replacing the one with its name).
    SaveTemplate {
        /// The saved profile that keeps it.
        profile: ProfileId,
        /// The template.
        template: Box<Template>,
    },
    /// Delete a publish template of a saved profile.
    DeleteTemplate {
        /// The saved profile.
        profile: ProfileId,
        /// The template's name.
        name: String,
    },
    /// Send a template on the active connection: `count` messages `interval_ms` apart, its
    /// variables filled in per message.
    SendTemplate(Box<Template>),
    /// Dismiss this notice.
    DismissNotice(NoticeId),
    /// Pick a file and import profiles from it.
    Import,
    /// Show the export options.
    Export,
    /// Enter (`true`) or leave presentation mode.
    Present(bool),
    /// The active connection's presentation (tiles, redaction) as edited: saved in its
    /// profile and applied to every view of it.
    SetPresentation(Box<Presentation>),
    /// The active connection's protobuf schema settings as edited: saved in its profile,
    /// compiled in the background when the file or folder changed.
    SetProto(Box<crate::model::proto::ProtoSettings>),
    /// Choose a file whose bytes become the publish panel's payload.
    PickPayloadFile,
    /// Read this file as the publish panel's payload (what the picker's choice becomes).
    LoadPayloadFile(std::path::PathBuf),
    /// Pick a `.proto` file (or a folder of them) for the active connection's schema.
    PickProto {
        /// A folder (else one file).
        folder: bool,
    },
    /// Compile the active connection's schema again (its files were edited).
    ReloadProto,
    /// Probe the broker of the active connection (else the selected profile) for the report
    /// card, in the background.
    RunReportCard,
    /// Save the report card shown (to `path`, or a file the user picks).
    ExportReportCard {
        /// Markdown, JSON or a PNG picture of the card.
        format: CardFormat,
        /// Where; `None` asks.
        path: Option<PathBuf>,
    },
    /// Save the rows a connection's timeline shows as JSON Lines.
    ExportTimeline {
        /// The connection.
        tab: ConnectionId,
        /// Where; `None` asks.
        path: Option<PathBuf>,
    },
}

/// How the report card is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardFormat {
    /// The tables of `canopy probe -F md`.
    Markdown,
    /// The whole report, as `canopy probe -F json`.
    Json,
    /// A picture of the card as the window shows it.
    Png,
}

impl CardFormat {
    /// The name in a tooltip or a notice.
    pub fn label(self) -> &'static str {
        match self {
            CardFormat::Markdown => "Markdown",
            CardFormat::Json => "JSON",
            CardFormat::Png => "a PNG picture",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            CardFormat::Markdown => "md",
            CardFormat::Json => "json",
            CardFormat::Png => "png",
        }
    }
}

/// Which TLS file a file picker fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTarget {
    /// The CA certificate.
    Ca,
    /// The client certificate.
    ClientCert,
    /// The client private key.
    ClientKey,
}
