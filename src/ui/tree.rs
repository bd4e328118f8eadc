//! The topic tree panel: filter, `$SYS` toggle, and only the visible rows drawn.

use std::time::{Duration, Instant};

use egui::{Align, Color32, Key, Layout, RichText, Sense, Ui};

use super::tab::ConnectionTab;
use super::widgets;
use crate::model::topic_tree::NodeId;
use crate::model::{decode, payload};

/// How long a node shows its update dot after an update.
const HIGHLIGHT: Duration = Duration::from_millis(1200);
/// Width kept left of every row for the update dot.
const UPDATE_GUTTER: f32 = 10.0;
/// Radius of the update dot.
const UPDATE_DOT_RADIUS: f32 = 3.0;
/// Opacity of the counts and ages beside the rows (of the normal text colour): readable,
/// yet quieter than the topic names.
const SIDE_TEXT_ALPHA: f32 = 0.8;
/// The highlight fades in this many steps, not smoothly: each step is one repaint, so live
/// traffic costs a few frames a second instead of an animation at full frame rate (a window
/// left open all day on a laptop).
const HIGHLIGHT_STEPS: u32 = 3;
/// Fading steps of different rows are drawn together, at most this often.
const HIGHLIGHT_REPAINT: Duration = Duration::from_millis(250);

/// The update dot of a row updated `age` ago: its opacity (fading in [`HIGHLIGHT_STEPS`]
/// steps from 0.9 down) and the time until its next step, or `None` once it has faded out.
fn highlight(age: Duration) -> Option<(f32, Duration)> {
    if age >= HIGHLIGHT {
        return None;
    }
    let step_len = HIGHLIGHT / HIGHLIGHT_STEPS;
    let step = (age.as_nanos() / step_len.as_nanos()) as u32;
    let until_next = step_len * (step + 1) - age;
    let alpha = 0.9 * (1.0 - step as f32 / HIGHLIGHT_STEPS as f32);
    Some((alpha, until_next))
}

/// Time per frame the tree panel may spend filtering and flattening rows; the rest waits for
/// the next frame so that typing into the filter of a million topics never stalls one.
const VIEW_BUDGET: Duration = Duration::from_millis(3);

/// Width kept for the filter's ✖ button beside the field (its size plus spacing).
const CLEAR_BUTTON_WIDTH: f32 = 28.0;

/// Draws the filter bar and the tree of the active connection.
pub fn tree_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    header_ui(ui, tab);
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
                if let Some(t) = last_update
                    && let Some((alpha, until_next)) = highlight(now.saturating_duration_since(t))
                {
                    next_fade = Some(next_fade.map_or(until_next, |n| n.min(until_next)));
                    // A dot in the gutter, not a tinted row: at 20 msg/s every row updates
                    // and tinted rows merged into one solid block.
                    let centre = egui::pos2(rect.left() + UPDATE_GUTTER / 2.0, rect.center().y);
                    let color = ui.visuals().selection.stroke.color.gamma_multiply(alpha);
                    ui.painter().circle_filled(centre, UPDATE_DOT_RADIUS, color);
                }
                let mut row_ui = ui.new_child(
                    egui::UiBuilder::new()
                        .max_rect(rect)
                        .layout(Layout::left_to_right(Align::Center)),
                );
                row_ui.add_space(UPDATE_GUTTER + f32::from(row.depth) * 16.0);
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
                let name = shown_name(tab, row.id);
                let name = if node.is_topic() {
                    RichText::new(name).strong()
                } else {
                    RichText::new(name)
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
                    let width = (row_ui.available_width() - 190.0).max(0.0);
                    row_ui.allocate_ui(egui::vec2(width, row_height), |ui| {
                        ui.add(
                            egui::Label::new(
                                RichText::new(
                                    sparkplug
                                        .then(|| payload::sparkplug_preview(&latest.payload, 120))
                                        .flatten()
                                        .unwrap_or_else(|| {
                                            let shown =
                                                tab.redactor.payload(tab.tree.name(row.id), &latest.payload);
                                            payload::preview(&shown, 120)
                                        }),
                                )
                                .monospace()
                                .weak(),
                            )
                            .truncate(),
                        );
                    });
                }
                row_ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    // Body-sized and a little dimmer than names: tiny weak text was unreadable
                    // on a projector.
                    let side = ui.visuals().text_color().gamma_multiply(SIDE_TEXT_ALPHA);
                    if let Some(t) = last_update {
                        ui.label(RichText::new(widgets::age(now.saturating_duration_since(t))).color(side));
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
                    ui.label(RichText::new(counts).color(side))
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

/// A row's name, or [`MASK`](crate::model::redact::MASK) when the redaction hides its level
/// (decided from the levels above it, the same way the topic string is).
fn shown_name(tab: &ConnectionTab, id: NodeId) -> &str {
    let name = tab.tree.name(id);
    if !tab.redactor.hides_levels() {
        return name;
    }
    let mut path: Vec<&str> = tab.tree.ancestors(id).map(|a| tab.tree.name(a)).collect();
    path.reverse();
    path.push(name);
    if tab.redactor.hides_level(&path) {
        crate::model::redact::MASK
    } else {
        name
    }
}

/// The filter (the field takes what the ✖ leaves), then `$SYS` and the counts on a line
/// of their own that wraps: on one line they were clipped as soon as the ✖ appeared in a
/// column of the default 1440-px window.
fn header_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    ui.horizontal(|ui| {
        ui.label("🔍");
        // Named by a word, not by the magnifier (what a screen reader would speak).
        let name = ui.label(RichText::new("Filter").weak());
        let field_width = (ui.available_width() - CLEAR_BUTTON_WIDTH).max(60.0);
        ui.add(
            egui::TextEdit::singleline(&mut tab.view.filter)
                .hint_text("Filter topics")
                .desired_width(field_width),
        )
        .labelled_by(name.id);
        if !tab.view.filter.is_empty() && widgets::icon_button(ui, "✖", "Clear the filter").clicked() {
            tab.view.filter.clear();
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut tab.view.hide_sys, "Hide $SYS");
        ui.separator();
        ui.label(format!(
            "{} topics · {} messages",
            widgets::count(u64::from(tab.tree.topic_count())),
            widgets::count(tab.tree.total_messages())
        ));
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_dot_fades_in_steps_then_goes() {
        let (fresh, next) = highlight(Duration::ZERO).unwrap();
        assert!((fresh - 0.9).abs() < 1e-6);
        assert_eq!(next, HIGHLIGHT / HIGHLIGHT_STEPS);
        let (later, _) = highlight(HIGHLIGHT - Duration::from_millis(1)).unwrap();
        assert!(later < fresh && later > 0.0);
        assert_eq!(highlight(HIGHLIGHT), None);
    }
}
