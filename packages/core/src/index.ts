export const coreMarker: string = 'core';
