import { randomInt } from 'node:crypto';
import { UserError } from '../../lib/errors.js';

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'clever',
  'crisp',
  'dazzling',
  'eager',
  'fervent',
  'gentle',
  'happy',
  'jolly',
  'keen',
  'lucid',
  'merry',
  'nimble',
  'noble',
  'placid',
  'quiet',
  'rapid',
  'serene',
  'sharp',
  'steady',
  'swift',
  'tender',
  'upbeat',
  'vivid',
  'warm',
  'wise',
  'zealous',
  'bold',
  'cosmic',
  'misty',
];
const NOUNS = [
  'brook',
  'cloud',
  'dew',
  'drizzle',
  'fog',
  'frost',
  'geyser',
  'glacier',
  'hail',
  'lagoon',
  'mist',
  'monsoon',
  'ocean',
  'puddle',
  'rain',
  'rapids',
  'river',
  'shower',
  'sleet',
  'snow',
  'spray',
  'spring',
  'steam',
  'stream',
  'surf',
  'tide',
  'torrent',
  'vapor',
  'wave',
  'well',
  'droplet',
  'condenser',
];

/** A name when none is given, docker's way: adjective_noun. */
export function generatedName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
}

/** docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, a leading "/" allowed. */
export function validateName(text: string, what = '--name'): string {
  const name = text.startsWith('/') ? text.slice(1) : text;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name))
    throw new UserError(`${what}: invalid container name "${text}": use [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at least 2 characters)`, {
      kind: 'invalid',
      field: what,
    });
  return name;
}
