"""The administrator web surface: login page, sessions, a few permission-guarded pages."""
