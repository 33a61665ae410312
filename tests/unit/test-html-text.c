/*
 * test-html-text.c - visible text and title of HTML pages (stages/html-text.c).
 */
#ifndef _GNU_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "util/buf.h"
#include "html-text.h"

struct out {
	struct buf text, title;
};

static int setup(void **state)
{
	static struct out o;

	buf_init(&o.text);
	buf_init(&o.title);
	*state = &o;
	return 0;
}

static int teardown(void **state)
{
	struct out *o = *state;

	buf_release(&o->text);
	buf_release(&o->title);
	return 0;
}

static void run(struct out *o, const char *html)
{
	html_text(html, strlen(html), &o->text, &o->title);
}

static void script_style_and_comments_are_dropped(void **state)
{
	struct out *o = *state;

	run(o, "<html><head><style>body { color: red }</style>"
	       "<script type=\"text/javascript\">if (a < b) alert('x');</script></head>"
	       "<body><!-- hidden <p>note</p> -->Shown<SCRIPT>var x = '</p>';</Script> text"
	       "<template><p>later</p></template></body></html>");
	assert_string_equal(o->text.s, "Shown text");
}

static void named_and_numeric_entities_are_decoded(void **state)
{
	struct out *o = *state;

	run(o, "<p>a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; f&nbsp;g &#233; &#xE9; &#X41;</p>");
	assert_string_equal(o->text.s, "a & b <c> \"d\" 'e' f g \xc3\xa9 \xc3\xa9 A");
}

static void unknown_or_unterminated_entities_stay_as_written(void **state)
{
	struct out *o = *state;

	run(o, "AT&T &bogus; &amp &#12x; 5 & 6");
	assert_string_equal(o->text.s, "AT&T &bogus; &amp &#12x; 5 & 6");
}

static void invalid_code_points_become_replacement_characters(void **state)
{
	struct out *o = *state;

	run(o, "a&#0;b&#xD800;c&#x110000;d&#99999999999999999999;e");
	assert_string_equal(o->text.s,
			    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d\xef\xbf\xbd" "e");
}

static void title_comes_from_the_title_element(void **state)
{
	struct out *o = *state;

	run(o, "<title>\n  Cache &amp; keys\n in   rp </title><h1>Heading</h1><p>Body</p>");
	assert_string_equal(o->title.s, "Cache & keys in rp");
	assert_string_equal(o->text.s, "Heading\n\nBody");
}

static void title_falls_back_to_the_first_heading(void **state)
{
	struct out *o = *state;

	run(o, "<title>  </title><p>intro</p><h2 class=\"x\">First <em>real</em>\nheading</h2>"
	       "<h1>Second</h1>");
	assert_string_equal(o->title.s, "First real heading");
	run(o, "<p>no heading at all</p>");
	assert_string_equal(o->title.s, "");
}

static void blocks_make_paragraphs_and_lines(void **state)
{
	struct out *o = *state;

	run(o, "  <div>one\n   two</div><p>three<br>four</p><ul><li>a</li><li>b</li></ul>"
	       "<table><tr><td>x</td><td>y</td></tr><tr><th>z</th></tr></table>  ");
	assert_string_equal(o->text.s, "one two\n\nthree\nfour\n\na\nb\n\nx y\nz");
}

static void inline_tags_do_not_split_words(void **state)
{
	struct out *o = *state;

	run(o, "<p>re<b>tr</b>ieval <a href=\"x.html\" title='a > b'>link</a>.</p>");
	assert_string_equal(o->text.s, "retrieval link.");
}

static void pre_keeps_its_white_space(void **state)
{
	struct out *o = *state;

	run(o, "<p>code:</p><pre>\nrp repro\n  --force\n\n\tdone   \n</pre><p>after</p>");
	assert_string_equal(o->text.s, "code:\n\nrp repro\n  --force\n\n\tdone\n\nafter");
}

static void stray_angle_brackets_are_text(void **state)
{
	struct out *o = *state;

	run(o, "1 < 2 and 3 <= 4, <3 <");
	assert_string_equal(o->text.s, "1 < 2 and 3 <= 4, <3 <");
}

static void unterminated_markup_ends_the_text(void **state)
{
	struct out *o = *state;

	run(o, "before<!-- never closed <p>lost</p>");
	assert_string_equal(o->text.s, "before");
	run(o, "before<script>never closed");
	assert_string_equal(o->text.s, "before");
	run(o, "before<a href=\"x>y");
	assert_string_equal(o->text.s, "before");
}

static void doctype_processing_instructions_and_cdata(void **state)
{
	struct out *o = *state;

	run(o, "<?xml version=\"1.0\"?><!DOCTYPE html><p><![CDATA[a < b]]></p>");
	assert_string_equal(o->text.s, "a < b");
}

static void utf8_is_copied_through(void **state)
{
	struct out *o = *state;

	run(o, "<h1>caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9a</h1>");
	assert_string_equal(o->text.s, "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9a");
	assert_string_equal(o->title.s, "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9a");
}

static void empty_input_gives_empty_text(void **state)
{
	struct out *o = *state;

	run(o, "");
	assert_int_equal(o->text.len, 0);
	assert_int_equal(o->title.len, 0);
	run(o, "<html><body>  \n </body></html>");
	assert_int_equal(o->text.len, 0);
}

static void put_utf8_encodes_every_length(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	html_put_utf8(&b, 0x41);
	html_put_utf8(&b, 0xe9);
	html_put_utf8(&b, 0x20ac);
	html_put_utf8(&b, 0x1f4da);
	html_put_utf8(&b, 0xdc00);
	assert_string_equal(b.s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9a\xef\xbf\xbd");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(script_style_and_comments_are_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(named_and_numeric_entities_are_decoded, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_or_unterminated_entities_stay_as_written, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_code_points_become_replacement_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(title_comes_from_the_title_element, setup, teardown),
		cmocka_unit_test_setup_teardown(title_falls_back_to_the_first_heading, setup, teardown),
		cmocka_unit_test_setup_teardown(blocks_make_paragraphs_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(inline_tags_do_not_split_words, setup, teardown),
		cmocka_unit_test_setup_teardown(pre_keeps_its_white_space, setup, teardown),
		cmocka_unit_test_setup_teardown(stray_angle_brackets_are_text, setup, teardown),
		cmocka_unit_test_setup_teardown(unterminated_markup_ends_the_text, setup, teardown),
		cmocka_unit_test_setup_teardown(doctype_processing_instructions_and_cdata, setup, teardown),
		cmocka_unit_test_setup_teardown(utf8_is_copied_through, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_input_gives_empty_text, setup, teardown),
		cmocka_unit_test(put_utf8_encodes_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
