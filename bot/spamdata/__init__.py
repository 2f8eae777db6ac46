"""Training data files for the spam classifier (read by `bot.mod_model`)."""
