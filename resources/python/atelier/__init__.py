"""Python shipped with Atelier: code that runs in the user's interpreter (jobs, models, serving)."""
