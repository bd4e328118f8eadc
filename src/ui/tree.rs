//! The topic tree panel: filter, `$SYS` toggle, and only the visible rows drawn.

use std::time::{Duration, Instant};

use egui::{Align, Color32, Key, Layout, RichText, Sense, Ui};

use super::tab::ConnectionTab;
use super::widgets;
use crate::model::topic_tree::NodeId;
use crate::model::{decode, payload};

/// How long a node stays highlighted after an update.
const HIGHLIGHT: Duration = Duration::from_millis(1200);
/// The highlight fades in this many steps, not smoothly: each step is one repaint, so live
/// traffic costs a few frames a second instead of an animation at full frame rate (a window
/// left open all day on a laptop).
const HIGHLIGHT_STEPS: u32 = 3;
/// Fading steps of different rows are drawn together, at most this often.
const HIGHLIGHT_REPAINT: Duration = Duration::from_millis(250);

/// Time per frame the tree panel may spend filtering and flattening rows; the rest waits for
/// the next frame so that typing into the filter of a million topics never stalls one.
const VIEW_BUDGET: Duration = Duration::from_millis(3);

/// Draws the filter bar and the tree of the active connection.
pub fn tree_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    ui.horizontal(|ui| {
        ui.label("🔍");
        // Named by a word, not by the magnifier (what a screen reader would speak).
        let name = ui.label(RichText::new("Filter").weak());
        ui.add(
            egui::TextEdit::singleline(&mut tab.view.filter)
                .hint_text("Filter topics")
                .desired_width(220.0),
        )
        .labelled_by(name.id);
        if !tab.view.filter.is_empty() && widgets::icon_button(ui, "✖", "Clear the filter").clicked() {
            tab.view.filter.clear();
        }
        ui.checkbox(&mut tab.view.hide_sys, "Hide $SYS");
        ui.separator();
        ui.label(format!(
            "{} topics · {} messages",
            widgets::count(u64::from(tab.tree.topic_count())),
            widgets::count(tab.tree.total_messages())
        ));
    });
    let deadline = Instant::now() + VIEW_BUDGET;
    tab.view.refresh(&mut tab.tree, Some(deadline));
    if let Some(progress) = tab.view.pending(&tab.tree) {
        // The rest is done in the next frames; say so when it is the user's change.
        ui.ctx().request_repaint();
        if tab.view.stale() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Filtering {} topics… {:.0}%",
                    widgets::count(u64::from(tab.tree.topic_count())),
                    progress * 100.0
                ));
            });
        }
    }
    ui.separator();
    keyboard(ui, tab);
    tab.view.refresh(&mut tab.tree, Some(deadline));

    if tab.view.rows.is_empty() {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| {
            let text = if tab.tree.topic_count() == 0 {
                if tab.connected() {
                    "Connected — waiting for messages…"
                } else {
                    "No messages yet."
                }
            } else {
                "No topic matches the filter."
            };
            ui.label(RichText::new(text).weak());
        });
        return;
    }

    let row_height = ui.spacing().interact_size.y;
    let now = Instant::now();
    // When the next highlight step is due (the soonest of all visible rows).
    let mut next_fade: Option<Duration> = None;
    let scroll_to = tab.view.scroll_to_selected.then_some(tab.view.selected).flatten();
    tab.view.scroll_to_selected = false;
    let mut toggle: Option<NodeId> = None;
    let mut select: Option<NodeId> = None;
    let total_rows = tab.view.rows.len();
    egui::ScrollArea::both().auto_shrink([false, false]).show_rows(
        ui,
        row_height,
        total_rows,
        |ui, range| {
            for row in &tab.view.rows[range] {
                let node = tab.tree.node(row.id);
                let selected = tab.view.selected == Some(row.id);
                let expanded = tab.view.expanded.contains(&row.id) || !tab.view.filter.trim().is_empty();
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(ui.available_width(), row_height), Sense::hover());
                let last_update = tab.tree.last_update(row.id);
                if let Some(t) = last_update {
                    let age = now.saturating_duration_since(t);
                    if age < HIGHLIGHT {
                        let step_len = HIGHLIGHT / HIGHLIGHT_STEPS;
                        let step = (age.as_nanos() / step_len.as_nanos()) as u32;
                        let until_next = step_len * (step + 1) - age;
                        next_fade = Some(next_fade.map_or(until_next, |n| n.min(until_next)));
                        let alpha = 1.0 - step as f32 / HIGHLIGHT_STEPS as f32;
                        let base = ui.visuals().selection.bg_fill;
                        ui.painter()
                            .rect_filled(rect, 2.0, base.gamma_multiply(0.3 * alpha));
                    }
                }
                let mut row_ui = ui.new_child(
                    egui::UiBuilder::new()
                        .max_rect(rect)
                        .layout(Layout::left_to_right(Align::Center)),
                );
                row_ui.add_space(f32::from(row.depth) * 16.0);
                if !node.has_children() {
                    row_ui.add_space(18.0);
                } else {
                    let arrow = if expanded { "⏷" } else { "⏵" };
                    let r = row_ui.add(
                        egui::Button::new(arrow)
                            .frame(false)
                            .min_size(egui::vec2(18.0, 0.0)),
                    );
                    let name = if expanded { "Collapse" } else { "Expand" };
                    if widgets::named(r.on_hover_text(name), name).clicked() {
                        toggle = Some(row.id);
                    }
                }
                let name = if node.is_topic() {
                    RichText::new(tab.tree.name(row.id)).strong()
                } else {
                    RichText::new(tab.tree.name(row.id))
                };
                let r = row_ui.selectable_label(selected, name);
                if r.clicked() {
                    select = Some(row.id);
                }
                if r.double_clicked() && node.has_children() {
                    toggle = Some(row.id);
                }
                if scroll_to == Some(row.id) {
                    r.scroll_to_me(Some(Align::Center));
                }
                if node.retained() {
                    row_ui
                        .label(RichText::new("R").small().color(Color32::from_rgb(230, 160, 40)))
                        .on_hover_text("The latest message is retained");
                }
                if node.unasked() {
                    row_ui
                        .label(RichText::new("unasked").small().italics().weak())
                        .on_hover_text(
                            "Not matched by any subscription: the broker sent it unasked. \
                             Never cleared, exported or recorded.",
                        );
                }
                if let Some(latest) = node.latest() {
                    // Below the Sparkplug namespace (found from the top-level ancestor, without
                    // building the row's full topic every frame).
                    let sparkplug = tab
                        .tree
                        .ancestors(row.id)
                        .last()
                        .is_some_and(|top| tab.tree.name(top) == decode::sparkplug::NAMESPACE);
                    // Leave room for the counts and age on the right; cut the preview to fit.
                    let width = (row_ui.available_width() - 150.0).max(0.0);
                    row_ui.allocate_ui(egui::vec2(width, row_height), |ui| {
                        ui.add(
                            egui::Label::new(
                                RichText::new(
                                    sparkplug
                                        .then(|| payload::sparkplug_preview(&latest.payload, 120))
                                        .flatten()
                                        .unwrap_or_else(|| payload::preview(&latest.payload, 120)),
                                )
                                .monospace()
                                .weak(),
                            )
                            .truncate(),
                        );
                    });
                }
                row_ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if let Some(t) = last_update {
                        ui.label(
                            RichText::new(widgets::age(now.saturating_duration_since(t)))
                                .small()
                                .weak(),
                        );
                    }
                    let counts = if !node.has_children() {
                        widgets::count(node.messages())
                    } else {
                        format!(
                            "{} · {} topics",
                            widgets::count(node.subtree_messages()),
                            widgets::count(u64::from(node.subtree_topics()))
                        )
                    };
                    ui.label(RichText::new(counts).small().weak())
                        .on_hover_text("Messages on this topic and below · topics below");
                });
            }
        },
    );
    if let Some(id) = toggle {
        let open = !tab.view.expanded.contains(&id);
        tab.view.set_expanded(id, open);
    }
    if let Some(id) = select {
        tab.select(id);
    }
    if let Some(next) = next_fade {
        ui.ctx().request_repaint_after(next.max(HIGHLIGHT_REPAINT));
    }
}

/// Arrow keys: up/down move, right expands (or enters), left collapses (or goes to the parent).
fn keyboard(ui: &mut Ui, tab: &mut ConnectionTab) {
    if ui.ctx().egui_wants_keyboard_input() || tab.view.rows.is_empty() {
        return;
    }
    let (down, up, right, left) = ui.input(|i| {
        (
            i.key_pressed(Key::ArrowDown),
            i.key_pressed(Key::ArrowUp),
            i.key_pressed(Key::ArrowRight),
            i.key_pressed(Key::ArrowLeft),
        )
    });
    if !(down || up || right || left) {
        return;
    }
    let rows = &tab.view.rows;
    let pos = tab
        .view
        .selected
        .and_then(|s| rows.iter().position(|r| r.id == s));
    let Some(pos) = pos else {
        let first = rows[0].id;
        tab.select(first);
        tab.view.scroll_to_selected = true;
        return;
    };
    let id = rows[pos].id;
    let node = tab.tree.node(id);
    let filtering = !tab.view.filter.trim().is_empty();
    if down && pos + 1 < rows.len() {
        let next = rows[pos + 1].id;
        tab.select(next);
    } else if up && pos > 0 {
        let prev = rows[pos - 1].id;
        tab.select(prev);
    } else if right && node.has_children() {
        if tab.view.expanded.contains(&id) || filtering {
            if let Some(next) = rows.get(pos + 1).map(|r| r.id) {
                tab.select(next);
            }
        } else {
            tab.view.set_expanded(id, true);
        }
    } else if left {
        if tab.view.expanded.contains(&id) && !filtering {
            tab.view.set_expanded(id, false);
        } else {
            let parent = tab.tree.ancestors(id).next();
            if let Some(parent) = parent {
                tab.select(parent);
            }
        }
    }
    tab.view.scroll_to_selected = true;
}
