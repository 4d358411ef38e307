"""Reading an invoice for the user: what a Factur-X XML, a PDF's text or a photo's OCR says,
as suggestions for the deposit form. Pure: no Flask, no database (like portal.accounting)."""
