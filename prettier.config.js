/** @type {import('prettier').Config} */
export default { singleQuote: true, trailingComma: 'all', printWidth: 110, semi: true };
