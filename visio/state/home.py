"""The landing page's state: only decides where a logged-in visitor belongs."""

from __future__ import annotations

import reflex as rx

from visio.state.app import AppState, home_for


class HomeState(AppState):
    @rx.event
    def on_load(self):
        if self.current_user() is not None:
            return rx.redirect(home_for(self.user_role))
        return AppState.load_shell
