/** The media type of a Content-Type header, lower-cased and without parameters (charset…). */
export function mediaType(contentType: string | string[] | undefined): string {
  const v = Array.isArray(contentType) ? contentType[0] : contentType;
  return (v ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether a media type is JSON: `application/json` or an `application/*+json` type. */
export function isJsonMedia(mt: string): boolean {
  return mt === 'application/json' || (mt.startsWith('application/') && mt.endsWith('+json'));
}
