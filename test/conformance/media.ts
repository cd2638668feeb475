/** Tiny media payloads for the conformance backend's image, audio and binary answers. */

/** A 1x1 red PNG, base64. */
export const RED_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** A RIFF/WAVE header over `samples` bytes of 8-bit mono 8 kHz silence. */
function silentWav(samples: number): Buffer {
  const wav = Buffer.alloc(44 + samples, 0x80); // 0x80 is silence for unsigned 8-bit PCM
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8_000, 24); // sample rate
  wav.writeUInt32LE(8_000, 28); // byte rate
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples, 40);
  return wav;
}

/** 10 ms of silence as a WAV file, base64. */
export const SILENT_WAV = silentWav(80).toString('base64');
