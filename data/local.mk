# data/local.mk -- files installed to $(pkgdatadir): the refused-password list,
# the OpenAPI document and the docs page rendered from it (tools/gen-docs.py;
# both are committed, so building needs no Python)
dist_pkgdata_DATA += data/common-passwords.txt data/openapi.json data/docs.html
EXTRA_DIST += tools/gen-docs.py
