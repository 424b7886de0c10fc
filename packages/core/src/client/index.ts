// Placeholder: read /tmp/helper-common.md first (rules for parallel work in this checkout).
export {};
