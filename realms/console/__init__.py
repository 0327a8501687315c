"""The console's pages: views, forms, filters, and who may see what."""
