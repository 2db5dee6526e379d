# AUTO-GENERATED FILE - DO NOT EDIT.
# This file is ignored by pyfetch/.gitignore and must never show up in search results.
GENERATED_STATUS_TABLE = {
    200: "OK",
    404: "Not Found",
    503: "Service Unavailable",
}


def generated_lookup_status(code):
    return GENERATED_STATUS_TABLE.get(code, "Unknown")
