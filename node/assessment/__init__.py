"""The partnership's strategic assessment: aggregate figures from the node's own contacts,
decisions and agencies' records for a period and area, with small counts suppressed."""
