//! Saving, deleting and sending publish templates (the publish panel's Templates section).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::CanopyApp;
use super::origins::Origin;
use crate::engine::Command;
use crate::model::template::{Sequence, Template};
use crate::profiles::profile::ProfileId;
use crate::ui::i18n::tr;
use crate::ui::notices::Level;

impl CanopyApp {
    pub(super) fn save_template(&mut self, profile: &ProfileId, template: Template) {
        let Some(p) = self.profiles.file.profiles.iter_mut().find(|p| &p.id == profile) else {
            self.notices
                .push(Level::Warning, tr!("app_templates.deleted").into_owned());
            return;
        };
        let name = template.name.clone();
        match p.templates.iter_mut().find(|t| t.name == name) {
            Some(old) => *old = template,
            None => p.templates.push(template),
        }
        self.profiles.dirty = true;
        let note = tr!("app_templates.saved", name = name, profile = p.name).into_owned();
        self.notices.push(Level::Info, note);
    }

    pub(super) fn delete_template(&mut self, profile: &ProfileId, name: &str) {
        if let Some(p) = self.profiles.file.profiles.iter_mut().find(|p| &p.id == profile) {
            p.templates.retain(|t| t.name != name);
            self.profiles.dirty = true;
        }
    }

    /// Sends a template on the active tab from a job thread that paces the messages; each
    /// publish's outcome comes back to the panel (failures become notices). A template whose
    /// first message cannot be made is refused before anything is sent.
    pub(super) fn send_template(&mut self, template: Template) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        let id = tab.id;
        let mut seq = Sequence::default();
        if let Err(e) = template.render(&mut seq.clone()) {
            self.notices
                .push(Level::Error, format!("Template “{}”: {e}", template.name));
            return;
        }
        let count = template.count.max(1);
        let interval = Duration::from_millis(template.interval_ms);
        if count > 1 {
            self.notices.push(
                Level::Info,
                tr!(
                    "app_templates.sending",
                    name = template.name,
                    count = count,
                    interval = template.interval_ms
                )
                .into_owned(),
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        self.generators.push((id, stop.clone()));
        let (engine, origins) = (self.engine.sender(), self.origins.clone());
        self.jobs.spawn("template", move |_| {
            let start = Instant::now();
            for n in 0..count {
                let due = start + interval * n;
                while Instant::now() < due {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep((due - Instant::now()).min(Duration::from_millis(50)));
                }
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                // Rendered once above: only a variable failing later could stop it here.
                let Ok(message) = template.render(&mut seq) else {
                    return;
                };
                let token = origins.register(id, Origin::Panel);
                let sent = engine.send(Command::Publish {
                    id,
                    token,
                    message: Box::new(message),
                });
                if !sent {
                    return;
                }
            }
        });
    }
}
