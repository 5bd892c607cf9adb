"""The information product of a decided referral, as a page and as a PDF."""
