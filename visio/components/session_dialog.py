"""The "Créer une session" / edit dialog."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import ERROR_COLOR, field_label
from visio.components.text import TEXT
from visio.state.session_form import SessionFormState as F

T = TEXT


def _error(name: str) -> rx.Component:
    return rx.cond(
        F.errors.contains(name),
        rx.text(F.errors[name], size="1", color=ERROR_COLOR, role="alert", id=f"error-{name}"),
    )


def _label(key: str, html_for: str = "") -> rx.Component:
    return field_label(T[key], html_for)


def _text_input(name: str, error_name: str, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.input(
        value=getattr(F, name),
        on_change=lambda v: F.set_value(name, v),
        on_blur=lambda _v: F.touch(name),
        color_scheme=rx.cond(F.errors.contains(error_name), "red", "gray"),
        id=f"field-{name}",
        width="100%",
        **props,
    )


def _block(*children: rx.Component) -> rx.Component:
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def _platform_picker() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", id="field-platform", aria_label=T["form.platform"]),
        rx.select.content(
            rx.select.item(T["platform.jitsi"], value="jitsi"),
            rx.select.item(T["platform.zoom"], value="zoom"),
            rx.select.item(T["platform.teams"], value="teams"),
            rx.select.item(T["platform.custom"], value="custom"),
        ),
        value=F.platform,
        on_change=lambda v: F.set_value("platform", v),
    )


def _tags() -> rx.Component:
    return _block(
        _label("form.tags", "field-tag_input"),
        rx.hstack(
            rx.foreach(
                F.tags,
                lambda tag: rx.badge(
                    "#",
                    tag,
                    rx.icon(
                        "x",
                        size=12,
                        cursor="pointer",
                        on_click=F.remove_tag(tag),
                        aria_label=T["form.remove_tag"],
                    ),
                    variant="soft",
                    radius="full",
                    size="2",
                ),
            ),
            wrap="wrap",
            spacing="1",
        ),
        rx.hstack(
            rx.input(
                value=F.tag_input,
                on_change=lambda v: F.set_value("tag_input", v),
                on_key_down=F.tag_key,
                placeholder=T["form.tags_placeholder"],
                id="field-tag_input",
                width="100%",
            ),
            rx.button(
                rx.icon("plus", size=14),
                variant="soft",
                on_click=F.add_tag,
                type="button",
                aria_label=T["form.add_tag"],
            ),
            width="100%",
        ),
        _error("tags"),
    )


def _material_links() -> rx.Component:
    return _block(
        _label("form.material_links"),
        rx.foreach(
            F.material_links,
            lambda link, index: rx.hstack(
                rx.icon("link", size=14),
                rx.text(link["title"], size="2", weight="medium"),
                rx.text(
                    link["url"],
                    size="1",
                    color_scheme="gray",
                    trim="both",
                    style={"overflow_wrap": "anywhere"},
                ),
                rx.spacer(),
                rx.icon(
                    "x",
                    size=14,
                    cursor="pointer",
                    on_click=F.remove_material_link(index),
                    aria_label=T["form.remove_link"],
                ),
                width="100%",
                align="center",
            ),
        ),
        rx.flex(
            rx.input(
                value=F.material_title,
                on_change=lambda v: F.set_value("material_title", v),
                placeholder=T["form.material_title"],
                id="field-material_title",
                width="100%",
            ),
            rx.input(
                value=F.material_url,
                on_change=lambda v: F.set_value("material_url", v),
                placeholder="https://",
                type="url",
                id="field-material_url",
                width="100%",
            ),
            rx.button(
                rx.icon("plus", size=14),
                variant="soft",
                on_click=F.add_material_link,
                type="button",
                aria_label=T["form.add_link"],
                id="add-material-link",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            gap="2",
            width="100%",
        ),
        rx.cond(
            F.material_error != "",
            rx.text(F.material_error, size="1", color=ERROR_COLOR, role="alert"),
        ),
        rx.text(T["form.material_hint"], size="1", color_scheme="gray"),
    )


def _choice(name: str, value: rx.Var, options: list[tuple[str, str]]) -> rx.Component:
    return rx.radio_group.root(
        rx.flex(
            *[
                rx.text(
                    rx.flex(rx.radio_group.item(value=v, id=f"{name}-{v}"), T[key], spacing="2"),
                    as_="label",
                    size="2",
                )
                for v, key in options
            ],
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="4",
            wrap="wrap",
        ),
        value=value,
        on_change=lambda v: F.set_value(name, v),
        id=f"field-{name}",
    )


def _repeat() -> rx.Component:
    """A series: weekly or every N days, K occurrences or until a date, with the dates."""
    return _block(
        _label("series.repeat"),
        _choice(
            "repeat_mode",
            F.repeat_mode,
            [
                ("none", "series.repeat_none"),
                ("weekly", "series.repeat_weekly"),
                ("days", "series.repeat_days"),
            ],
        ),
        rx.cond(
            F.repeat_mode != "none",
            rx.vstack(
                rx.cond(
                    F.repeat_mode == "days",
                    _block(
                        _label("series.every_days", "field-repeat_every"),
                        _text_input("repeat_every", "repeat", type="number", min="1", max="365"),
                    ),
                ),
                _choice(
                    "repeat_end",
                    F.repeat_end,
                    [("count", "series.end_count"), ("until", "series.end_until")],
                ),
                rx.cond(
                    F.repeat_end == "count",
                    _text_input(
                        "repeat_count",
                        "repeat",
                        type="number",
                        min="2",
                        max="52",
                        aria_label=T["series.end_count"],
                    ),
                    _text_input(
                        "repeat_until", "repeat", type="date", aria_label=T["series.end_until"]
                    ),
                ),
                _error("repeat"),
                rx.cond(
                    F.repeat_preview.length() > 0,
                    rx.vstack(
                        rx.text(F.repeat_count_label, size="1", weight="medium"),
                        rx.foreach(
                            F.repeat_preview,
                            lambda day: rx.text(day, size="1", color_scheme="gray"),
                        ),
                        spacing="0",
                        id="repeat-preview",
                    ),
                ),
                spacing="2",
                width="100%",
                padding="12px",
                border_radius="12px",
                background=rx.color("gray", 2),
            ),
        ),
    )


def _scope() -> rx.Component:
    """Editing an occurrence of a series: this one, or it and every later one."""
    return _block(
        _label("series.scope"),
        _choice(
            "edit_scope",
            F.edit_scope,
            [("one", "series.scope_one"), ("future", "series.scope_future")],
        ),
    )


def _minimum() -> rx.Component:
    """Minimum participants, and when it is decided (empty: a day before the start)."""
    return rx.grid(
        _block(
            _label("form.min_participants", "field-min_participants"),
            _text_input("min_participants", "min_participants", input_mode="numeric"),
            rx.text(T["form.min_participants_hint"], size="1", color_scheme="gray"),
            _error("min_participants"),
        ),
        _block(
            _label("form.decide_at", "field-decide_date"),
            rx.hstack(
                _text_input("decide_date", "decide_at", type="date"),
                _text_input(
                    "decide_time", "decide_at", type="time", aria_label=T["a11y.decide_time"]
                ),
                width="100%",
            ),
            rx.text(T["form.decide_at_hint"], size="1", color_scheme="gray"),
            _error("decide_at"),
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def _advanced() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.switch(checked=F.is_paid, on_change=F.set_paid, id="field-is_paid"),
            field_label(T["form.paid"], "field-is_paid"),
            align="center",
        ),
        rx.cond(
            F.is_paid,
            _block(
                _label("form.price", "field-price"),
                _text_input("price", "price", placeholder="15,00", input_mode="decimal"),
                rx.text(T["form.price_hint"], size="1", color_scheme="gray"),
                _error("price"),
            ),
        ),
        rx.grid(
            _block(
                _label("form.capacity", "field-capacity"),
                _text_input(
                    "capacity", "capacity", placeholder=T["common.unlimited"], input_mode="numeric"
                ),
                _error("capacity"),
            ),
            _block(
                _label("form.deadline", "field-deadline_date"),
                rx.hstack(
                    _text_input("deadline_date", "enrollment_deadline", type="date"),
                    _text_input(
                        "deadline_time",
                        "enrollment_deadline",
                        type="time",
                        aria_label=T["a11y.deadline_time"],
                    ),
                    width="100%",
                ),
                rx.text(T["form.deadline_hint"], size="1", color_scheme="gray"),
                _error("enrollment_deadline"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        _minimum(),
        _tags(),
        rx.cond(~F.editing, _material_links()),
        spacing="4",
        width="100%",
        padding="12px",
        border_radius="12px",
        background=rx.color("gray", 2),
    )


def session_form_fields() -> rx.Component:
    return rx.vstack(
        rx.cond(
            F.move_note != "",
            rx.callout(
                F.move_note, icon="users", color_scheme="blue", width="100%", id="move-note"
            ),
        ),
        rx.cond(
            F.form_error != "",
            rx.callout(F.form_error, icon="triangle-alert", color_scheme="red", width="100%"),
        ),
        _block(
            _label("form.title", "field-title"),
            _text_input("title", "title", placeholder=T["form.title_placeholder"], max_length=200),
            _error("title"),
        ),
        _block(
            _label("form.description", "field-description"),
            rx.text_area(
                value=F.description,
                on_change=lambda v: F.set_value("description", v),
                on_blur=lambda _v: F.touch("description"),
                rows="4",
                id="field-description",
                width="100%",
            ),
            _error("description"),
        ),
        rx.grid(
            _block(
                _label("form.date", "field-date"),
                rx.hstack(
                    _text_input("date", "starts_at", type="date"),
                    _text_input("time", "starts_at", type="time", aria_label=T["a11y.start_time"]),
                    width="100%",
                ),
                rx.text(T["form.zone_hint"], " ", F.form_tz, size="1", color_scheme="gray"),
                _error("starts_at"),
            ),
            _block(
                _label("form.duration", "field-duration"),
                _text_input(
                    "duration", "duration_minutes", type="number", min="5", max="480", step="5"
                ),
                _error("duration_minutes"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.cond(F.editing, rx.cond(F.in_series, _scope()), _repeat()),
        _block(
            _label("form.platform"),
            _platform_picker(),
            rx.cond(
                F.platform == "jitsi",
                rx.text(T["form.jitsi_hint"], size="1", color_scheme="gray"),
                rx.fragment(
                    _text_input("link", "link", placeholder="https://", type="url"),
                    _error("link"),
                ),
            ),
        ),
        rx.button(
            rx.icon(rx.cond(F.show_advanced, "chevron-down", "chevron-right"), size=16),
            T["form.advanced"],
            variant="ghost",
            on_click=F.toggle_advanced,
            type="button",
            id="toggle-advanced",
        ),
        rx.cond(F.show_advanced, _advanced()),
        spacing="4",
        width="100%",
    )


def session_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(F.editing, T["form.edit_title"], T["form.create_title"])),
            rx.dialog.description(
                T["form.subtitle"], size="2", color_scheme="gray", margin_bottom="12px"
            ),
            session_form_fields(),
            rx.flex(
                rx.dialog.close(
                    rx.button(
                        T["common.cancel"], variant="soft", color_scheme="gray", type="button"
                    )
                ),
                rx.cond(
                    F.editing,
                    rx.button(
                        T["form.save"], on_click=F.submit(False), loading=F.saving, id="form-save"
                    ),
                    rx.fragment(
                        rx.button(
                            T["form.save_draft"],
                            variant="outline",
                            on_click=F.submit(False),
                            loading=F.saving,
                            id="form-draft",
                        ),
                        rx.button(
                            T["form.create_publish"],
                            on_click=F.submit(True),
                            loading=F.saving,
                            id="form-publish",
                        ),
                    ),
                ),
                gap="3",
                justify="end",
                wrap="wrap",
                margin_top="20px",
            ),
            max_width="640px",
            id="session-dialog",
        ),
        open=F.dialog_open,
        on_open_change=F.set_dialog_open,
    )
