export { preloadFonts } from './fonts.js';
export * from './render.js';
export * from './view.js';
