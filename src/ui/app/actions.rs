//! Applying the [`Action`]s the panels asked for: each arm of [`CanopyApp::apply`] is one call
//! to a method named after what it does.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::CanopyApp;
use super::dialogs::Dialog;
use super::jobs::{Background, ReplayJob, file_dialog, picked};
use super::origins::Origin;
use crate::engine::{Command, ConnectionId, ConnectionState};
use crate::model::message::OutgoingMessage;
use crate::model::recording::Speed;
use crate::model::topic_tree::{Limits, NodeId, TopicTree};
use crate::profiles::Profile;
use crate::profiles::profile::{PasswordStorage, ProfileId, Subscription};
use crate::ui::action::Action;
use crate::ui::action::FileTarget;
use crate::ui::i18n::tr;
use crate::ui::notices::{Level, NoticeId};
use crate::ui::profiles::FileCheck;
use crate::ui::tab::{ConnectionTab, SubState, SubStatus};

impl CanopyApp {
    /// Carries out an action as if a panel had asked for it (for tests and tools).
    pub fn act(&mut self, action: Action) {
        self.apply(action);
    }

    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::Connect(profile) => self.connect(*profile),
            Action::RetryNow(id) => self.engine.send(Command::RetryNow { id }),
            Action::Disconnect(id) => self.disconnect(id),
            Action::CloseTab(id) => self.close_tab(id),
            Action::Publish(message) => self.publish(message),
            Action::ClearRetained(topic) => self.clear_retained(topic),
            Action::ClearRetainedBelow(node) => self.ask_clear_retained_below(node),
            Action::StartRecording(path) => self.start_recording(path),
            Action::StopRecording => self.stop_recording(),
            Action::StartReplay { path, speed } => self.start_replay(path, speed),
            Action::StopReplay => self.stop_replay(),
            Action::Plot { topic, path } => self.plot(&topic, path),
            Action::UseTopic(topic) => self.use_topic(topic),
            Action::Browse { profile, target } => self.browse(profile, target),
            Action::CheckFile { path, target } => self.check_file(path, target),
            Action::SaveFile {
                what,
                suggested_name,
                bytes,
            } => self.save_file(what, suggested_name, move || Ok(bytes.to_vec())),
            Action::ExportMessages {
                node,
                subtree,
                format,
                suggested_name,
            } => self.export_messages(node, subtree, format, suggested_name),
            Action::Import => self.import_profiles(),
            Action::Export => self.ask_export(),
            Action::DismissNotice(i) => self.dismiss_notice(i),
            Action::Subscribe {
                tab,
                subscription,
                identifier,
            } => self.subscribe(tab, subscription, identifier),
            Action::Unsubscribe { tab, filter } => self.unsubscribe(tab, filter),
            Action::SetLimits(limits) => self.set_limits(limits),
            Action::SetLanguage(language) => self.set_language(language),
            Action::SaveTemplate { profile, template } => self.save_template(&profile, *template),
            Action::DeleteTemplate { profile, name } => self.delete_template(&profile, &name),
            Action::SendTemplate(template) => self.send_template(*template),
            Action::Present(on) => self.present(on),
            Action::SetPresentation(presentation) => self.set_presentation(*presentation),
            Action::SetProto(settings) => self.set_proto(*settings),
            Action::PickProto { folder } => self.pick_proto(folder),
            Action::PickPayloadFile => self.pick_payload_file(),
            Action::LoadPayloadFile(path) => self.load_payload_file(path),
            Action::ReloadProto => self.reload_proto(),
            Action::RunReportCard => self.run_report_card(),
            Action::ExportReportCard { format, path } => self.export_report_card(format, path),
            Action::ExportTimeline { tab, path } => self.export_timeline(tab, path),
        }
    }

    /// Connects a profile: starts the sandbox first when it is one, asks for a password the
    /// profile does not save, or one the credential store could not give (no Secret Service:
    /// the notice then promised "you will be asked").
    pub(super) fn connect(&mut self, profile: Profile) {
        if self.dialog.is_some() {
            return;
        }
        self.persisted.last_profile = Some(profile.name.clone());
        if matches!(
            profile.password_storage,
            PasswordStorage::Ask | PasswordStorage::Keyring
        ) && profile.username.as_ref().is_some_and(|u| !u.is_empty())
            && profile.password.is_none()
        {
            self.dialog = Some(Dialog::Password {
                profile: Box::new(profile),
                password: String::new(),
            });
            return;
        }
        if profile.sandbox.is_some() {
            self.jobs.spawn_once("sandbox", move || {
                Some(Background::SandboxReady(Box::new(crate::sandbox::resolve(
                    profile,
                ))))
            });
            return;
        }
        self.open_connection(profile);
    }

    /// Opens (or re-opens) the tab of a profile whose connection settings are final.
    pub(super) fn open_connection(&mut self, profile: Profile) {
        let index = match self.tabs.iter().position(|t| t.profile.name == profile.name) {
            Some(i) => i,
            None => {
                let id = self.new_connection_id();
                let mut tab = ConnectionTab::new(id, profile.clone());
                tab.view.show_sys = self.persisted.show_sys;
                tab.tree = TopicTree::with_limits(self.persisted.limits);
                self.tabs.push(tab);
                self.tabs.len() - 1
            }
        };
        let tab = &mut self.tabs[index];
        tab.redactor = profile.presentation.redactor();
        tab.profile = profile.clone();
        tab.reset_subscriptions();
        tab.set_state(ConnectionState::Connecting);
        self.active = index;
        let id = tab.id;
        let mut options = profile.connect_options();
        // The control packets always (a timeline opened later still shows the CONNACK); every
        // packet once the timeline window asks (`sync_trace`).
        options.trace = crate::engine::TraceLevel::Control;
        tab.timeline.trace_level = options.trace;
        self.load_schema(id, false);
        self.engine.send(Command::Connect {
            id,
            options: Box::new(options),
        });
        self.stop_generators(id);
        if let Some(sandbox) = profile.sandbox.filter(|s| s.demo_traffic) {
            let stop = Arc::new(AtomicBool::new(false));
            self.generators.push((id, stop.clone()));
            self.jobs.spawn("demo", move |jobs| {
                crate::demo::run(profile, sandbox.rate, None, stop, |e| {
                    jobs.send(Background::Demo(e))
                });
            });
        }
    }

    pub(super) fn stop_generators(&mut self, id: ConnectionId) {
        self.generators.retain(|(d, stop)| {
            if *d == id {
                stop.store(true, Ordering::Relaxed);
            }
            *d != id
        });
    }

    fn disconnect(&mut self, id: ConnectionId) {
        if self.tabs.iter().any(|t| t.id == id) {
            self.stop_generators(id);
            self.engine.send(Command::Disconnect { id });
        }
    }

    fn close_tab(&mut self, id: ConnectionId) {
        let Some(index) = self.tabs.iter().position(|t| t.id == id) else {
            return;
        };
        let active_id = self.tabs.get(self.active).map(|t| t.id);
        let tab = self.tabs.remove(index);
        self.stop_generators(tab.id);
        self.engine.send(Command::Disconnect { id: tab.id });
        // The active tab stays active when another one closes; closing it activates the one
        // that took its place.
        self.active = active_id
            .and_then(|a| self.tabs.iter().position(|t| t.id == a))
            .unwrap_or(self.active)
            .min(self.tabs.len().saturating_sub(1));
    }

    fn publish(&mut self, message: OutgoingMessage) {
        let Some(message) = self.encode_bound(message) else {
            return;
        };
        let Some(tab) = self.tabs.get_mut(self.active) else {
            return;
        };
        let id = tab.id;
        // Request/response: listen on the response topic before the request goes out.
        if let Some(sub) = tab.track_request(&message) {
            self.subscribe(id, sub, None);
        }
        let token = self.origins.register(id, Origin::Panel);
        self.persisted.publish.sent(token, message.clone());
        self.engine.send(Command::Publish {
            id,
            token,
            message: Box::new(message),
        });
    }

    fn clear_retained(&mut self, topic: String) {
        if let Some(tab) = self.tabs.get(self.active) {
            let token = self.origins.register(tab.id, Origin::Panel);
            self.engine.send(Command::ClearRetained {
                id: tab.id,
                token,
                topic,
            });
        }
    }

    /// Opens the confirmation listing the retained topics at or below `node`.
    fn ask_clear_retained_below(&mut self, node: NodeId) {
        if self.clear_job.is_some() {
            self.notices
                .push(Level::Warning, tr!("actions.wait_clear").into_owned());
        } else if let Some(tab) = self.tabs.get_mut(self.active) {
            let topics = tab
                .tree
                .retained_below(node)
                .into_iter()
                .map(|n| tab.tree.full_topic(n))
                .collect();
            self.dialog = Some(Dialog::ClearRetained {
                tab: tab.id,
                root: tab.tree.full_topic(node),
                topics,
            });
        }
    }

    fn start_recording(&mut self, path: Option<PathBuf>) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let tab = tab.id;
        self.jobs.spawn_once("record-to", move || {
            let path =
                path.or_else(|| file_dialog("Record to", Some("canopy-recording.jsonl"), &[]).save_file())?;
            Some(Background::RecordTo { tab, path })
        });
    }

    fn stop_recording(&mut self) {
        if let Some(tab) = self.tabs.get_mut(self.active) {
            // Dropping the recorder lets its thread finish the file and report.
            tab.recorder = None;
        }
    }

    fn start_replay(&mut self, path: Option<PathBuf>, speed: Speed) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        if self.replay.is_some() {
            self.notices
                .push(Level::Warning, tr!("actions.replay_running").into_owned());
            return;
        }
        let id = tab.id;
        let control = Arc::new(crate::replay::ReplayControl::default());
        self.replay = Some(ReplayJob {
            control: control.clone(),
            progress: Default::default(),
            failed: 0,
        });
        let engine = self.engine.sender();
        let origins = self.origins.clone();
        self.jobs.spawn("replay", move |jobs| {
            let report = |p: &crate::replay::ReplayProgress| jobs.send(Background::Replay(p.clone()));
            let path = path.or_else(|| {
                file_dialog(
                    "Replay a recording",
                    None,
                    &[("Recordings", &["jsonl", "json", "txt"])],
                )
                .pick_file()
            });
            match path {
                Some(path) => {
                    let options = crate::replay::ReplayOptions::at(speed);
                    let next_token = || origins.register(id, Origin::Replay);
                    crate::replay::replay(&path, &options, id, &engine, &control, next_token, report);
                }
                None => report(&crate::replay::ReplayProgress {
                    finished: true,
                    ..Default::default()
                }),
            }
        });
    }

    fn stop_replay(&mut self) {
        if let Some(job) = &self.replay {
            job.control.stop.store(true, Ordering::Relaxed);
        }
    }

    fn plot(&mut self, topic: &str, path: Vec<String>) {
        if let Some(tab) = self.tabs.get_mut(self.active) {
            tab.charts.add(topic, path, &tab.tree);
            self.persisted.show_charts = true;
        }
    }

    fn use_topic(&mut self, topic: String) {
        self.persisted.publish.topic = topic;
        self.persisted.show_publish = true;
    }

    /// Opens the file picker for a TLS file; the choice arrives as [`Background::FilePicked`].
    fn browse(&mut self, profile: ProfileId, target: FileTarget) {
        let title = match target {
            FileTarget::Ca => "Choose the CA certificate",
            FileTarget::ClientCert => "Choose the client certificate",
            FileTarget::ClientKey => "Choose the client private key",
        };
        self.jobs.spawn_once("pick-file", move || {
            let filters: [(&str, &[&str]); 2] = [
                ("PEM files", &["pem", "crt", "cer", "key"]),
                ("All files", &["*"]),
            ];
            let path = match picked(|| file_dialog(title, None, &filters).pick_file()) {
                Ok(path) => path,
                Err(no_picker) => return no_picker,
            };
            Some(Background::FilePicked {
                profile,
                target,
                path,
            })
        });
    }

    /// Reads a TLS file off the UI thread; the verdict shows beside its field.
    fn check_file(&mut self, path: PathBuf, target: FileTarget) {
        self.jobs.spawn_once("check-file", move || {
            use crate::engine::tls;
            let result = match target {
                FileTarget::Ca => tls::load_certificates("CA", &path).map(|_| ()),
                FileTarget::ClientCert => tls::load_certificates("client certificate", &path).map(|_| ()),
                FileTarget::ClientKey => tls::load_private_key(&path).map(|_| ()),
            };
            let check = match result {
                Ok(()) => FileCheck::Ok,
                Err(e) => FileCheck::Problem(e.to_string()),
            };
            Some(Background::FileChecked { path, check })
        });
    }

    /// Collects the entries now (the tree lives on this thread), writes them on a thread.
    fn export_messages(
        &mut self,
        node: NodeId,
        subtree: bool,
        format: crate::model::export::Format,
        suggested_name: String,
    ) {
        if let Some(tab) = self.tabs.get_mut(self.active) {
            let entries = if subtree {
                crate::model::export::latest_below(&mut tab.tree, node)
            } else {
                crate::model::export::history(&tab.tree, node)
            };
            let what = if subtree { "Latest values" } else { "History" };
            let decoder = tab.proto.decoder().cloned();
            self.save_file(what, suggested_name, move || {
                Ok(crate::model::export::write_decoded(&entries, format, decoder.as_ref()).into_bytes())
            });
        }
    }

    fn import_profiles(&mut self) {
        let cert_dir = self.config.profiles_path.with_file_name("certificates");
        self.jobs.spawn_once("import", move || {
            let path = file_dialog(
                "Import profiles (Canopy, MQTT Explorer settings.json, MQTTX export)",
                None,
                &[("Profiles", &["toml", "json"])],
            )
            .pick_file()?;
            Some(Background::Imported(crate::profiles::import::import_file(
                &path, &cert_dir,
            )))
        });
    }

    fn ask_export(&mut self) {
        self.dialog = Some(Dialog::Export {
            all: true,
            include_secrets: false,
        });
    }

    fn dismiss_notice(&mut self, id: NoticeId) {
        self.notices.dismiss(id);
    }

    /// Subscribes a tab (from its subscriptions panel, or a request waiting for its
    /// response); the panel shows it as pending until the SUBACK.
    fn subscribe(&mut self, id: ConnectionId, sub: Subscription, identifier: Option<usize>) {
        let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) else {
            return;
        };
        tab.subscriptions.retain(|s| s.sub.filter != sub.filter);
        tab.subscriptions.push(SubState {
            sub: sub.clone(),
            identifier,
            status: SubStatus::Pending,
        });
        self.engine.send(Command::Subscribe {
            id,
            subscriptions: vec![sub],
            subscription_id: identifier,
        });
    }

    /// The panel drops the row when the engine confirms (`Event::Unsubscribed`).
    fn unsubscribe(&mut self, id: ConnectionId, filter: String) {
        self.engine.send(Command::Unsubscribe {
            id,
            filters: vec![filter],
        });
    }

    /// Remembers the new history limits and applies them to every open tree (each trims
    /// what no longer fits at once).
    fn set_limits(&mut self, limits: Limits) {
        self.persisted.limits = limits;
        for tab in &mut self.tabs {
            tab.tree.set_limits(limits);
        }
    }

    fn set_language(&mut self, language: crate::ui::i18n::Language) {
        self.persisted.language = language;
        self.locale = language.resolve();
        crate::ui::i18n::set_locale(self.locale);
        self.ctx.send_viewport_cmd(egui::ViewportCommand::Title(
            crate::ui::window_title().into_owned(),
        ));
    }
}
