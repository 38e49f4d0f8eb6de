// The M2SE recipe: stages, task sampling, dynamic loss weights, warm-up + cosine schedules
export {};
