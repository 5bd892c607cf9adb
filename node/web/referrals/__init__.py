"""The front door's pages: the queue, recording a contact, and the referral page with its steps."""
