"""The community's voice (共治): polls (surveys, votes, regular satisfaction consultations), their
answers, and community activities with their sign-ups."""
