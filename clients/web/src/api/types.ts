// The API's shapes, from the types generated out of the services' OpenAPI documents.
import type { components as Documents } from "./generated/documents";
import type { components as Identity } from "./generated/identity";
import type { components as Meetings } from "./generated/meetings";
import type { components as Notify } from "./generated/notify";

export type Me = Identity["schemas"]["Me"];
export type Membership = Identity["schemas"]["MembershipOut"];
export type CellMate = Identity["schemas"]["CellMateOut"];
export type TotpEnrolment = Identity["schemas"]["TotpEnrolment"];
export type MemberRecord = Identity["schemas"]["MemberRecord"];
export type Distinction = Identity["schemas"]["DistinctionOut"];

export type MeetingSummary = Meetings["schemas"]["MeetingSummary"];
export type Meeting = Meetings["schemas"]["MeetingOut"];
export type RsvpIn = Meetings["schemas"]["RsvpIn"];
export type Attendance = Meetings["schemas"]["AttendanceOut"];
export type Motion = Meetings["schemas"]["MotionOut"];
export type Grade = Meetings["schemas"]["ReviewGrade"];
export type MyReview = Meetings["schemas"]["MyReview"];
export type GradeOut = Meetings["schemas"]["GradeOut"];
export type ReviewPeriod = Meetings["schemas"]["PeriodOut"];
export type CellReview = Meetings["schemas"]["CellReview"];
export type CellProgress = Meetings["schemas"]["CellProgress"];

export type DocumentSummary = Documents["schemas"]["DocumentSummary"];
export type DocumentDetail = Documents["schemas"]["DocumentOut"];
export type ToStudy = Documents["schemas"]["ToStudyItem"];
export type ProgressIn = Documents["schemas"]["ProgressIn"];
export type Download = Documents["schemas"]["DownloadOut"];
export type DocumentText = Documents["schemas"]["DocumentTextOut"];
export type Article = Documents["schemas"]["ArticleOut"];
export type ArticleSummary = Documents["schemas"]["ArticleSummary"];
export type Category = Documents["schemas"]["CategoryOut"];
export type News = Documents["schemas"]["NewsOut"];
export type Consultation = Documents["schemas"]["ConsultationOut"];
export type MyComment = Documents["schemas"]["MyCommentOut"];
export type Quiz = Documents["schemas"]["QuizOut"];
export type QuizAttemptIn = Documents["schemas"]["AttemptIn"];
export type QuizAttempt = Documents["schemas"]["AttemptOut"];

export type Notification = Notify["schemas"]["NotificationOut"];
export type InboxPage = Notify["schemas"]["InboxPage"];
export type Preferences = Notify["schemas"]["PreferencesOut"];
export type PushSubscription = Notify["schemas"]["SubscriptionOut"];

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
