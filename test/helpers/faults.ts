// What marks fault-injection code: the names of the faults src/sim/faults.ts injects. Code that
// uses one of them (in source or in the build) is fault injection, which `pjctl demo` must not load.
export const FAULT_CODE =
  /\b(garbageBanner|stallAfterBanner|closeMidAnswer|dropOutputLines|wrongActionId|duplicateResponse|dbDelFail|noChallenge)\b/
