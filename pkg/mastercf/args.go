// Reading an entry's arguments: daemon options, "-o" overrides and "{ }" words.

package mastercf

import "strings"

// argItem is one unit of an entry's arguments as postconf prints them.
type argItem struct {
	text string
	// width is the length postconf tests against the line limit before
	// printing the unit: braces it adds around a word with blanks are left out.
	width    int
	override bool // a "-o value" pair, which "postconf -Mf" puts on a line of its own
}

func plainItem(text string) argItem { return argItem{text: text, width: len(text)} }

// readArgs reads the words after the command the way postconf does, in two
// passes. The first rewrites the leading options: a bundle such as "-vo" is
// split before its "o", "-oVALUE" becomes "-o VALUE", and a braced override
// "{ name = value }" becomes "name=value". The second groups each "-o" (and,
// as postconf does, a lone "-") with the word after it; options end at "--"
// or at a word that does not start with "-". That word is printed without
// its braces; later words, and option values, are braced again only when
// they hold blanks. Problems postconf only warns about are passed to warn.
func readArgs(words []string, warn func(string)) (items []argItem, options []Option) {
	words = normalizeOptions(words, warn)
	unbraceWarn := func(word string) string {
		text, err := unbrace(word)
		if err != nil {
			warn(err.Error())
		}
		return text
	}
	inOptions := true
	for i := 0; i < len(words); i++ {
		word := words[i]
		switch {
		case !inOptions:
			items = append(items, bracedItem(unbraceWarn(word)))
		case !strings.HasPrefix(word, "-") || word == "--":
			inOptions = false
			items = append(items, plainItem(unbraceWarn(word)))
		case (word == "-o" || word == "-") && i+1 < len(words):
			i++
			value := words[i]
			if word == "-" {
				value = unbraceWarn(value)
			} else if name, val, err := splitNameValue(value); err == nil {
				options = append(options, Option{Name: name, Value: val})
			}
			item := bracedItem(value)
			items = append(items, argItem{text: word + " " + item.text, width: len(word) + 1 + item.width, override: true})
		default:
			items = append(items, plainItem(word))
		}
	}
	return items, options
}

// normalizeOptions is postconf's first pass over the leading options.
func normalizeOptions(words []string, warn func(string)) []string {
	out := make([]string, 0, len(words)+4)
	i := 0
	for ; i < len(words); i++ {
		word := words[i]
		if !strings.HasPrefix(word, "-") || word == "--" {
			break
		}
		if k := strings.IndexByte(word[1:], 'o'); k > 0 {
			out = append(out, word[:k+1])
			word = "-" + word[k+1:]
		}
		if word == "-" && i+1 < len(words) {
			// postconf takes a lone "-" as an option with a value, too.
			out = append(out, word, words[i+1])
			i++
			continue
		}
		if !strings.HasPrefix(word, "-o") {
			out = append(out, word)
			continue
		}
		out = append(out, "-o")
		switch {
		case len(word) > 2:
			out = append(out, readOverride(word[2:], warn))
		case i+1 < len(words):
			i++
			out = append(out, readOverride(words[i], warn))
		}
	}
	return append(out, words[i:]...)
}

// bracedItem prints text, braced when it holds blanks.
func bracedItem(text string) argItem {
	item := plainItem(text)
	if strings.ContainsAny(text, blanks) {
		item.text = "{" + text + "}"
	}
	return item
}

// readOverride rewrites one "-o" value: a braced value becomes
// "name=value", or its inner text when that is no "name=value", with the
// problem reported; a plain value is kept as written.
func readOverride(value string, warn func(string)) string {
	if !strings.HasPrefix(value, "{") {
		return value
	}
	inner, err := unbrace(value)
	if err != nil {
		warn(err.Error())
	}
	name, val, err := splitNameValue(inner)
	if err != nil {
		warn(err.Error())
		return inner
	}
	return name + "=" + val
}
